"""What the segments app announces. Other apps listen; segments imports none of them.

Sent inside the transaction that made the change, so listeners' writes commit or roll
back with it.
"""

from django.dispatch import Signal

# segment: Segment, customer_ids: list[int], actor: Actor
members_entered = Signal()

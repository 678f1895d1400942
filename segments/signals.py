"""What the segments app announces. Other apps listen; segments imports none of them.

Sent inside the transaction that made the change, so listeners' writes commit or roll
back with it.
"""

from django.dispatch import Signal

# segments: list[Segment] (entered for one reason), memberships:
# QuerySet[Membership] (the rows of those who entered them, to read inside the
# same transaction), actor: Actor
members_entered = Signal()

# Every effective entry or exit, as the history records it: memberships:
# QuerySet[Membership] (the rows as they stand, read them at once: leavers' rows
# are deleted next), entered: bool, context: ChangeContext (who, why, when).
members_changed = Signal()

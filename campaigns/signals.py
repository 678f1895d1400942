"""What the campaigns app announces; webhooks listen.

Sent inside the transaction that made the change, so listeners' writes commit or roll
back with it.
"""

from django.dispatch import Signal

# Customers enrolled in, or removed from, a campaign: campaign: Campaign,
# enrollments: QuerySet[Enrollment] (the rows that changed, to read inside the same
# transaction), enrolled: bool, actor: Actor, description: str, occurred_at: datetime.
enrollments_changed = Signal()

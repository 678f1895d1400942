from .api_keys import ApiKey
from .customers import Customer, Event
from .idempotency import IdempotentRequest
from .memberships import Membership, MembershipChange
from .segments import Condition, Segment, SegmentRule

__all__ = [
    "ApiKey",
    "Condition",
    "Customer",
    "Event",
    "IdempotentRequest",
    "Membership",
    "MembershipChange",
    "Segment",
    "SegmentRule",
]

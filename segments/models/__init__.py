from .api_keys import ApiKey
from .customers import Customer, Event
from .idempotency import IdempotentRequest
from .imports import ImportIssue, ImportJob, RowKind, StagedRow
from .memberships import Membership, MembershipChange
from .segments import Condition, Segment, SegmentRule

__all__ = [
    "ApiKey",
    "Condition",
    "Customer",
    "Event",
    "IdempotentRequest",
    "ImportIssue",
    "ImportJob",
    "Membership",
    "MembershipChange",
    "RowKind",
    "Segment",
    "SegmentRule",
    "StagedRow",
]

"""The admin: every write goes through the services (see base.py for how)."""

from .api_keys import ApiKeyAdmin
from .customers import CustomerAdmin, EventAdmin
from .memberships import MembershipAdmin, MembershipChangeAdmin
from .segments import ConditionAdmin, SegmentAdmin

__all__ = [
    "ApiKeyAdmin",
    "ConditionAdmin",
    "CustomerAdmin",
    "EventAdmin",
    "MembershipAdmin",
    "MembershipChangeAdmin",
    "SegmentAdmin",
]

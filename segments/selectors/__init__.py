"""Reads with more to them than a filter, by area; import them from here."""

from .customers import (
    CUSTOMER_FIELDS,
    CustomerLookup,
    IdType,
    customer_by_id,
    customer_by_user,
    customer_facts,
    customer_segments,
    customers_by_ids,
)
from .events import (
    EventNameCounts,
    event_name_counts,
    event_segment_candidates,
    events_recent,
)
from .rules import (
    ConditionCount,
    SegmentPreview,
    condition_label,
    group_label,
    rule_sources,
    segment_preview,
    segment_rule_spec,
    segment_rules_parse,
)
from .segments import (
    MemberStatus,
    segment_history,
    segment_list,
    segment_member,
    segment_members,
)
from .stats import (
    STATS_DAYS,
    DayStats,
    SegmentStats,
    segment_stats,
)

__all__ = [
    "CUSTOMER_FIELDS",
    "STATS_DAYS",
    "ConditionCount",
    "CustomerLookup",
    "DayStats",
    "EventNameCounts",
    "IdType",
    "MemberStatus",
    "SegmentPreview",
    "SegmentStats",
    "condition_label",
    "customer_by_id",
    "customer_by_user",
    "customer_facts",
    "customer_segments",
    "customers_by_ids",
    "event_name_counts",
    "event_segment_candidates",
    "events_recent",
    "group_label",
    "rule_sources",
    "segment_history",
    "segment_list",
    "segment_member",
    "segment_members",
    "segment_preview",
    "segment_rule_spec",
    "segment_rules_parse",
    "segment_stats",
]

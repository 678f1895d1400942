"""Reads with more to them than a filter, by area; import them from here."""

from .catalog import (
    rule_catalog,
)
from .counts import (
    EXACT_UP_TO,
    Estimate,
    count_estimated,
    planner_rows,
)
from .customers import (
    CUSTOMER_FIELDS,
    SEARCH_HELP,
    SEARCHED_FIELDS,
    CustomerKey,
    CustomerLookup,
    IdType,
    SearchText,
    customer_by_id,
    customer_by_user,
    customer_facts,
    customer_keys_by_ids,
    customer_segments,
    customers_by_ids,
    customers_named,
    customers_search,
)
from .dashboard import (
    Growth,
    computations_in_trouble,
    dashboard_counts,
    recent_activity,
    segments_growing,
)
from .events import (
    EventNameCounts,
    event_name_counts,
    event_names_recent,
    event_segment_candidates,
    events_recent,
)
from .explain import (
    ExplainedNode,
    Explanation,
    explanation_rows,
    membership_explain,
)
from .exports import (
    EXPORT_COLUMNS,
    import_issue_rows,
    neutralize,
    segment_export_rows,
)
from .overview import (
    segments_with_figures,
)
from .profile import (
    CustomerProfile,
    customer_profile,
)
from .rules import (
    ConditionCount,
    SegmentPreview,
    condition_label,
    group_label,
    rule_sources,
    segment_preview,
    segment_rule_spec,
    segment_rule_specs,
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
    "EXACT_UP_TO",
    "EXPORT_COLUMNS",
    "SEARCHED_FIELDS",
    "SEARCH_HELP",
    "STATS_DAYS",
    "ConditionCount",
    "CustomerKey",
    "CustomerLookup",
    "CustomerProfile",
    "DayStats",
    "Estimate",
    "EventNameCounts",
    "ExplainedNode",
    "Explanation",
    "Growth",
    "IdType",
    "MemberStatus",
    "SearchText",
    "SegmentPreview",
    "SegmentStats",
    "computations_in_trouble",
    "condition_label",
    "count_estimated",
    "customer_by_id",
    "customer_by_user",
    "customer_facts",
    "customer_keys_by_ids",
    "customer_profile",
    "customer_segments",
    "customers_by_ids",
    "customers_named",
    "customers_search",
    "dashboard_counts",
    "event_name_counts",
    "event_names_recent",
    "event_segment_candidates",
    "events_recent",
    "explanation_rows",
    "group_label",
    "import_issue_rows",
    "membership_explain",
    "neutralize",
    "planner_rows",
    "recent_activity",
    "rule_catalog",
    "rule_sources",
    "segment_export_rows",
    "segment_history",
    "segment_list",
    "segment_member",
    "segment_members",
    "segment_preview",
    "segment_rule_spec",
    "segment_rule_specs",
    "segment_rules_parse",
    "segment_stats",
    "segments_growing",
    "segments_with_figures",
]

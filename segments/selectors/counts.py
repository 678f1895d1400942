"""Counts that stay cheap on big tables: exact while small, estimated past that.

An exact `COUNT(*)` reads every row it counts: a million customers, or the members
of a big segment, cost a scan on every page that shows the figure. Here a count
reads at most EXACT_UP_TO + 1 rows; past that PostgreSQL's planner estimate is
used (for a whole table, its `pg_class.reltuples` scaled to the table's current
size; for a filter, the column statistics), kept fresh by autovacuum's ANALYZE
and costing no rows at all. It is returned as an `Estimate`, shown "about N".

Why an estimate and not an exact count cached for a while: a cached count is
still a scan for whoever misses the cache, per process with the local-memory
cache, and would show a marketer's own change late; a million customers are
"about 1,000,000" to the person reading the page.
"""

import json

from django.db import connections
from django.db.models import QuerySet

from segments_site.db_router import reading_from_replica

EXACT_UP_TO = 10_000


class Estimate(int):
    """A count from the planner's statistics. It calculates as an int and reads
    "about 1,234,567" where it is shown: Django renders an int by str() (without
    a thousand separator setting), so pages and admin texts label it as such."""

    def __str__(self) -> str:
        return f"about {int(self):,}"

    def __repr__(self) -> str:
        return f"Estimate({int(self)})"


def count_estimated(queryset: QuerySet) -> int:
    """The number of rows, exact up to EXACT_UP_TO; past it, on PostgreSQL, the
    planner's estimate (never below the rows already seen). SQLite counts exactly:
    its databases are small. Read from the replica when the request may (the
    figure may be a moment old; see segments_site.db_router)."""
    with reading_from_replica():
        queryset = queryset.order_by()
        # One database for every query of the count, chosen once.
        return _count_estimated(queryset.using(queryset.db))


def _count_estimated(queryset: QuerySet) -> int:
    if connections[queryset.db].vendor != "postgresql":
        return queryset.count()
    seen = queryset[: EXACT_UP_TO + 1].count()
    if seen <= EXACT_UP_TO:
        return seen
    return Estimate(max(planner_rows(queryset), seen))


def planner_rows(queryset: QuerySet) -> int:
    """How many rows PostgreSQL's planner expects the query to return (EXPLAIN
    runs nothing)."""
    sql, params = queryset.query.sql_with_params()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):  # a driver that does not decode json
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])

"""Set-based steps on the staged rows: find each row's customer, say what becomes of
it, create missing customers, then add the members with their history and
enrollments in a few statements."""

import json
from collections import Counter
from collections.abc import Iterator

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import BigIntegerField, Count, QuerySet
from django.db.models.functions import Cast

from segments.models import (
    Customer,
    ImportIssue,
    ImportJob,
    Membership,
    MembershipChange,
    RowKind,
    Segment,
    StagedRow,
)
from segments.selectors import IdType

from ..bulk import insert_from_select
from ..customers import customer_upsert
from ..memberships import ChangeContext, announce_entered, record_changes
from .staging import TABLE

PAGE = 1_000
# The staged rows still to add have no kind yet.
TO_ADD = ""
ISSUE_KINDS = (RowKind.UNKNOWN, RowKind.BLOCKED, RowKind.DUPLICATE)
# How a staged row's key finds its customer (c), per id type.
_MATCH = {
    IdType.ID: "c.external_id = {t}.key",
    IdType.EMAIL: "c.email = {t}.key",
    IdType.INTERNAL_ID: "c.id = CAST({t}.key AS bigint)",
}


def rows_classify(*, segment: Segment, id_type: str) -> None:
    """Give each staged row its kind: duplicate of an earlier row, unknown, blocked,
    already a member, or (no kind) to add. Each statement writes only the rows it
    marks: in the common case, a file of new members, none."""
    customers = Customer._meta.db_table
    memberships = Membership._meta.db_table
    match = _MATCH[IdType(id_type)].format(t=TABLE)
    statements: list[tuple[str, list[str | int]]] = [
        (
            f"UPDATE {TABLE} SET kind = %s FROM (SELECT key, MIN(line) AS first "
            f"FROM {TABLE} GROUP BY key HAVING COUNT(*) > 1) d "
            f"WHERE {TABLE}.key = d.key AND {TABLE}.line > d.first",
            [RowKind.DUPLICATE],
        ),
        (
            f"UPDATE {TABLE} SET kind = %s WHERE kind = %s "
            f"AND NOT EXISTS (SELECT 1 FROM {customers} c WHERE {match})",
            [RowKind.UNKNOWN, TO_ADD],
        ),
        (
            f"UPDATE {TABLE} SET kind = CASE WHEN m.override = %s THEN %s ELSE %s "
            f"END FROM {memberships} m JOIN {customers} c ON c.id = m.customer_id "
            f"WHERE m.segment_id = %s AND {match} AND {TABLE}.kind = %s",
            [
                Membership.Override.BLOCK,
                RowKind.BLOCKED,
                RowKind.ALREADY,
                segment.pk,
                TO_ADD,
            ],
        ),
    ]
    with connection.cursor() as cursor:
        for sql, params in statements:
            cursor.execute(sql, params)


def rows_count() -> Counter:
    counts = StagedRow.objects.values("kind").annotate(n=Count("line")).order_by()
    return Counter({row["kind"]: row["n"] for row in counts})


def customers_to_add(*, id_type: str) -> QuerySet[Customer]:
    """The customers of the rows still to add."""
    keys = StagedRow.objects.filter(kind=TO_ADD)
    if id_type == IdType.INTERNAL_ID:
        ids = keys.annotate(id=Cast("key", BigIntegerField())).values("id")
        return Customer.objects.filter(pk__in=ids)
    field = "email" if id_type == IdType.EMAIL else "external_id"
    return Customer.objects.filter(**{f"{field}__in": keys.values("key")})


def customers_create_or_update(*, job: ImportJob, ctx: ChangeContext) -> int:
    """create_missing: each unknown row becomes a customer and each row with
    profile columns updates its customer, through customer_upsert one row at a
    time. A row it refuses becomes invalid, with the reason. Returns how many
    customers were created."""
    created = 0
    for page in _pages(StagedRow.objects.exclude(kind=RowKind.DUPLICATE)):
        changes: list[tuple[str, int]] = []
        issues = []
        for row in page:
            if row.kind != RowKind.UNKNOWN and not row.data:
                continue
            try:
                result = customer_upsert(
                    external_id=row.key, actor=ctx.actor, **_profile(row.data)
                )
            except ValidationError as exc:
                changes.append((RowKind.INVALID, row.line))
                issues.append(_issue(job, row, exc))
                continue
            if row.kind == RowKind.UNKNOWN:
                created += result.created
                changes.append((TO_ADD, row.line))
        _update_rows(changes)
        ImportIssue.objects.bulk_create(issues)
    return created


def members_insert(*, segment: Segment, id_type: str, ctx: ChangeContext) -> int:
    """Add the rows still to add as members, with one history row each and their
    enrollments in live campaigns. Returns how many were added: a row someone else
    added meanwhile is left to them (ON CONFLICT DO NOTHING)."""
    by_hand = segment.type == Segment.Type.RULE
    added = insert_from_select(
        Membership,
        customers_to_add(id_type=id_type),
        columns={"customer": "pk"},
        constants={
            "segment": segment,
            "source": ctx.actor.source,
            "override": Membership.Override.ADD
            if by_hand
            else Membership.Override.NONE,
            "joined_at": ctx.occurred_at,
            "reference_id": ctx.reference_id,
            "metadata": ctx.metadata,
        },
        ignore_conflicts=True,
    )
    # The rows this import inserted: they carry its reference id and instant.
    rows = Membership.objects.filter(
        segment=segment,
        reference_id=ctx.reference_id,
        joined_at=ctx.occurred_at,
        source=ctx.actor.source,
    )
    record_changes(ctx, rows, MembershipChange.Action.ENTERED, False, True)
    announce_entered(segment, rows, ctx.actor)
    return added


def issues_insert(*, job: ImportJob, kinds=ISSUE_KINDS) -> None:
    insert_from_select(
        ImportIssue,
        StagedRow.objects.filter(kind__in=list(kinds)),
        columns={"line": "line", "kind": "kind", "value": "key"},
        constants={"job": job, "reason": ""},
    )


def _pages(rows) -> Iterator[list[StagedRow]]:
    """All rows, a page at a time in line order, read before the page is changed."""
    last = -1
    while page := list(rows.filter(line__gt=last).order_by("line")[:PAGE]):
        yield page
        last = page[-1].line


def _profile(data: str) -> dict:
    values = json.loads(data) if data else {}
    attributes = {
        name.removeprefix("attributes."): value
        for name, value in values.items()
        if name.startswith("attributes.")
    }
    profile = {k: v for k, v in values.items() if not k.startswith("attributes.")}
    return {**profile, **({"attributes": attributes} if attributes else {})}


def _issue(job: ImportJob, row: StagedRow, exc: ValidationError) -> ImportIssue:
    if hasattr(exc, "error_dict"):
        reason = "; ".join(
            f"{field}: {' '.join(messages)}"
            for field, messages in exc.message_dict.items()
        )
    else:
        reason = " ".join(exc.messages)
    return ImportIssue(
        job=job, line=row.line, kind=RowKind.INVALID, value=row.key, reason=reason
    )


def _update_rows(changes: list[tuple[str, int]]) -> None:
    if not changes:
        return
    with connection.cursor() as cursor:
        cursor.executemany(f"UPDATE {TABLE} SET kind = %s WHERE line = %s", changes)

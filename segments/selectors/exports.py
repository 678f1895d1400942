"""A segment's members as rows of a file: what the export writes, streamed."""

from collections.abc import Iterator, Sequence

from segments.models import ImportJob, Membership, RowKind, Segment

EXPORT_COLUMNS = (
    "id",
    "email",
    "first_name",
    "last_name",
    "phone",
    "source",
    "override",
    "is_test",
    "joined_at",
)
_FIELDS = (
    "customer__external_id",
    "customer__email",
    "customer__first_name",
    "customer__last_name",
    "customer__phone",
    "source",
    "override",
    "is_test",
    "joined_at",
)
# A spreadsheet takes a cell starting with one of these for a formula (OWASP's
# CSV injection): such cells are written with a leading apostrophe.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CHUNK = 2_000


def neutralize(value: str) -> str:
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def segment_export_rows(
    *, segment: Segment, attributes: Sequence[str] = ()
) -> Iterator[list[str]]:
    """The header, then one row per member (test users included, blocks not), in
    the order they joined; every cell text, safe to open in a spreadsheet."""
    yield [*EXPORT_COLUMNS, *attributes]
    rows = (
        Membership.objects.members()
        .filter(segment=segment)
        .order_by("joined_at", "id")
        .values_list(*_FIELDS, "customer__attributes")
    )
    for *values, extra in rows.iterator(chunk_size=CHUNK):
        cells = [_text(v) for v in values]
        cells += [_text((extra or {}).get(name)) for name in attributes]
        yield [neutralize(cell) for cell in cells]


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def import_issue_rows(*, job: ImportJob) -> Iterator[list[str]]:
    """Every row of an import that was not added: its line, kind, id and why."""
    yield ["line", "kind", "value", "reason"]
    issues = job.issues.order_by("line").values_list("line", "kind", "value", "reason")
    for line, kind, value, reason in issues.iterator(chunk_size=CHUNK):
        reason = reason or RowKind(kind).label
        yield [str(line), kind, neutralize(value), neutralize(reason)]

"""Statements about many rows at once: INSERT ... SELECT through the ORM's own
SQL, and a test of membership in a list of ids bound as one parameter.

`bulk_create` builds every row in Python and binds each value as a parameter: for
10,000 memberships with their history that is most of the time spent. Here the rows
come from a queryset and the constants are bound once, so the database does the work.
"""

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections, models, router
from django.db.models import F, Lookup, Q, QuerySet
from django.utils import timezone


def any_of(field: str, values: Iterable[Any]) -> Q:
    """`field IN values`, written `field = ANY(%s)` with the values as ONE array
    parameter on PostgreSQL. `pk__in` of a 1,000-event batch binds 1,000
    parameters to every statement that names the batch, and psycopg's client-side
    binding then parses the SQL text of each such statement in Python (10 ms
    apiece, the largest cost of a batch); an array is one value, its SQL is short
    and the planner reads it as well. Other databases: `__in`."""
    values = list(values)
    if not values or connections["default"].vendor != "postgresql":
        return Q(**{f"{field}__in": values})
    return Q(AnyOf(F(field), values))


class AnyOf(Lookup):
    """lhs = ANY(array): the array cast to the type of the column it is tested
    against (psycopg would otherwise pick the narrowest type that fits)."""

    lookup_name = "any_of"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        field = self.lhs.output_field
        values: Any = list(self.rhs)
        if all(type(v) is int for v in values):
            # Ids (the usual case): the array's text form, built here rather than
            # by psycopg's element-by-element list adapter.
            values = "{" + ",".join(map(str, values)) + "}"
        elif field.get_internal_type() in _TEXT_TYPES and all(
            type(v) is str for v in values
        ):
            # Texts (external ids): each quoted, backslashes and quotes escaped.
            # A lookup of 10,000 took half the time of the values adapted one by
            # one by the field and psycopg (24 ms against 49).
            values = "{" + ",".join(map(_array_element, values)) + "}"
        else:
            values = [field.get_db_prep_value(v, connection) for v in values]
        array = f"{field.cast_db_type(connection)}[]"
        return f"{lhs} = ANY(CAST(%s AS {array}))", (*lhs_params, values)


_TEXT_TYPES = {"CharField", "TextField"}


def _array_element(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def insert_from_select(
    model: type[models.Model],
    rows: QuerySet,
    *,
    columns: dict[str, str],
    constants: dict[str, Any],
    ignore_conflicts: bool = False,
) -> int:
    """Insert one `model` row per row of `rows`.

    `columns` maps a field of `model` to a field of the queryset's rows; `constants`
    gives the same value to every row. Fields named in neither take their default
    (auto_now fields: now; nullable ones: NULL). Returns the number of rows inserted.
    """
    connection = connections[router.db_for_write(model)]
    constants = {**_defaults(model, skip={*columns, *constants}), **constants}
    fields = [_column(model, name) for name in constants]
    try:
        # No ORDER BY: the models' default ordering would only make the database
        # sort (or walk an index backwards) before inserting.
        query = rows.order_by().values(*columns.values()).query
        select_sql, select_params = query.sql_with_params()
    except EmptyResultSet:  # e.g. pk__in=[]: nothing to insert
        return 0
    targets = [*fields, *(_column(model, name) for name in columns)]
    placeholders = [_placeholder(field, connection) for field in fields]
    values = [
        field.get_db_prep_save(
            value.pk if isinstance(value, models.Model) else value, connection
        )
        for field, value in zip(fields, constants.values(), strict=True)
    ]
    quote = connection.ops.quote_name
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} "
        f"({', '.join(quote(str(field.column)) for field in targets)}) "
        f"SELECT {', '.join([*placeholders, 'source.*'])} "
        # WHERE 1 = 1: SQLite needs a WHERE before ON CONFLICT to parse the statement.
        f"FROM ({select_sql}) source WHERE 1 = 1"
        + (" ON CONFLICT DO NOTHING" if ignore_conflicts else "")
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*values, *select_params])
        return cursor.rowcount


def _column(model: type[models.Model], name: str) -> models.Field:
    field = model._meta.get_field(name)
    if not isinstance(field, models.Field) or not field.column:
        raise ValueError(f"{model.__name__}.{name} is not a column")
    return field


def _placeholder(field: models.Field, connection) -> str:
    # PostgreSQL does not infer the type of a parameter in a SELECT list.
    if connection.vendor == "postgresql":
        return f"CAST(%s AS {field.db_type(connection)})"
    return "%s"


def _defaults(model: type[models.Model], *, skip: set[str]) -> dict[str, Any]:
    defaults: dict[str, Any] = {}
    now = timezone.now()
    for field in model._meta.concrete_fields:
        if field.primary_key or field.name in skip:
            continue
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            defaults[field.name] = now
        elif field.has_default():
            defaults[field.name] = field.get_default()
        elif not field.null:
            raise ValueError(f"{model.__name__}.{field.name} needs a value")
    return defaults

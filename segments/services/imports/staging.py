"""The staging table: a temporary table of this database session that holds the
rows of the file being imported, loaded with COPY on PostgreSQL and in batches of
executemany on SQLite."""

from collections.abc import Iterable

from django.db import connection

from segments.models import StagedRow

TABLE = StagedRow._meta.db_table
COLUMNS = "line, key, data"
BATCH = 5_000


def staging_create() -> None:
    """A fresh, empty staging table, private to this connection."""
    staging_drop()
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE {TABLE} (line bigint NOT NULL, "
            "key varchar(255) NOT NULL, data text NOT NULL DEFAULT '', "
            "kind varchar(10) NOT NULL DEFAULT '')"
        )


def staging_drop() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")


def staging_load(rows: Iterable[tuple[int, str, str]]) -> None:
    """Append (line, key, data) rows."""
    if connection.vendor == "postgresql":
        _copy(rows)
        return
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {TABLE} ({COLUMNS}) VALUES (%s, %s, %s)", list(rows)
        )


def staging_index(*, by_line: bool) -> None:
    """After loading: statistics for the planner (hash joins, not loops), and the
    index that pages through the rows one by one when `by_line`."""
    with connection.cursor() as cursor:
        if by_line:
            cursor.execute(f"CREATE UNIQUE INDEX {TABLE}_line ON {TABLE} (line)")
        cursor.execute(f"ANALYZE {TABLE}")


def _copy(rows: Iterable[tuple[int, str, str]]) -> None:
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {TABLE} ({COLUMNS}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)

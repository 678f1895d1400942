import pytest
from django.db import connection

requires_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs concurrent transactions: run with DATABASE_URL=postgres://...",
)

postgres_pass = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="runs in the PostgreSQL pass of the suite (DATABASE_URL=postgres://...)",
)

"""Indexes for the admin's pages at a million customers (issue 9).

On PostgreSQL only, and outside the models' Meta (SQLite has neither): pg_trgm
with a GIN trigram index on the customer's searched text, the same expression as
segments.selectors.customers.SearchText under icontains (UPPER(...::text)), and a
jsonb_path_ops GIN index on attributes for `attributes @> {"key": value}`.
"""

from django.db import migrations, models

SEARCH_TEXT = (
    "UPPER((external_id || ' ' || email || ' ' || first_name || ' ' || last_name"
    " || ' ' || phone)::text)"
)
POSTGRESQL_ONLY = [
    (
        "CREATE EXTENSION IF NOT EXISTS pg_trgm",
        None,
    ),
    (
        "CREATE INDEX customer_search_trgm ON segments_customer"
        f" USING gin (({SEARCH_TEXT}) gin_trgm_ops)",
        "DROP INDEX IF EXISTS customer_search_trgm",
    ),
    (
        "CREATE INDEX customer_attributes_gin ON segments_customer"
        " USING gin (attributes jsonb_path_ops)",
        "DROP INDEX IF EXISTS customer_attributes_gin",
    ),
]


def create_postgresql_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for create, _ in POSTGRESQL_ONLY:
            schema_editor.execute(create)


def drop_postgresql_indexes(apps, schema_editor):
    # The extension stays: other database objects may use it by now.
    if schema_editor.connection.vendor == "postgresql":
        for _, drop in reversed(POSTGRESQL_ONLY):
            if drop:
                schema_editor.execute(drop)


class Migration(migrations.Migration):

    dependencies = [
        ('segments', '0006_merge_hardening_events_imports'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='event',
            index=models.Index(fields=['received_at', 'name'], name='event_received_name'),
        ),
        migrations.RemoveIndex(
            model_name='event',
            name='event_received_at',
        ),
        migrations.AddIndex(
            model_name='membership',
            index=models.Index(condition=models.Q(('is_test', False), models.Q(('override', 'block'), _negated=True)), fields=['segment', 'joined_at'], name='membership_counted_seg_joined'),
        ),
        migrations.AddIndex(
            model_name='membershipchange',
            index=models.Index(fields=['occurred_at', 'id'], name='change_occurred'),
        ),
        migrations.AddIndex(
            model_name='membershipchange',
            index=models.Index(condition=models.Q(('is_test', False), models.Q(('was_member', models.F('is_member')), _negated=True)), fields=['segment', 'occurred_at', 'is_member'], name='change_seg_moves'),
        ),
        migrations.AddIndex(
            model_name='membershipchange',
            index=models.Index(fields=['segment', 'occurred_at', 'id'], name='change_seg_occurred_id'),
        ),
        migrations.RemoveIndex(
            model_name='membershipchange',
            name='change_seg_occurred',
        ),
        migrations.RunPython(create_postgresql_indexes, drop_postgresql_indexes),
    ]

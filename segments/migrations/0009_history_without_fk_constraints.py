"""The membership history without database foreign key constraints: checked row
by row at COMMIT they cost a fifth of what a 10,000-id bulk add spends writing
(see the model's comment and docs/performance.md). The actors' indexes cover only the rows that
name one."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("segments", "0008_segment_days_bounds"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="membershipchange",
            name="actor_api_key",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="segments.apikey",
            ),
        ),
        migrations.AlterField(
            model_name="membershipchange",
            name="actor_user",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AlterField(
            model_name="membershipchange",
            name="customer",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="membership_changes",
                to="segments.customer",
            ),
        ),
        migrations.AlterField(
            model_name="membershipchange",
            name="segment",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="changes",
                to="segments.segment",
            ),
        ),
        migrations.AddIndex(
            model_name="membershipchange",
            index=models.Index(
                condition=models.Q(("actor_user__isnull", False)),
                fields=["actor_user"],
                name="change_actor_user",
            ),
        ),
        migrations.AddIndex(
            model_name="membershipchange",
            index=models.Index(
                condition=models.Q(("actor_api_key__isnull", False)),
                fields=["actor_api_key"],
                name="change_actor_api_key",
            ),
        ),
    ]

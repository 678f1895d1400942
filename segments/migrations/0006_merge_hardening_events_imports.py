# Joins the migrations of the hardening, events and imports work, written in parallel.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("segments", "0005_membershipchange_customer_erasable"),
        ("segments", "0005_event_timestamp_index"),
    ]

    operations = []

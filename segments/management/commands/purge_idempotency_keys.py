"""`manage.py purge_idempotency_keys`: delete stored answers older than 24 hours.

A key's own expired answer is replaced when the key comes back; run this from cron
to drop the ones that never do."""

from django.core.management.base import BaseCommand

from segments.api.idempotency import purge_expired


class Command(BaseCommand):
    help = "Delete Idempotency-Key answers past their 24-hour replay window."

    def handle(self, *args, **options):
        self.stdout.write(f"Deleted {purge_expired()} expired idempotency records.")

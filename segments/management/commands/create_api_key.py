"""`manage.py create_api_key --name NAME --scopes read,write,ingest`: a key for an
integration, printed once (only its hash is stored)."""

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from segments.services import Actor, api_key_create


class Command(BaseCommand):
    help = "Create an API key and print it once. Scopes: read, write, ingest."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True, help="Who uses the key.")
        parser.add_argument(
            "--scopes", required=True, help="Comma-separated: read,write,ingest."
        )
        parser.add_argument(
            "--expires-in-days", type=int, help="Default: the key does not expire."
        )

    def handle(self, *args, name, scopes, expires_in_days, **options):
        expires_at = None
        if expires_in_days is not None:
            expires_at = timezone.now() + timedelta(days=expires_in_days)
        try:
            created = api_key_create(
                name=name,
                scopes=[s.strip() for s in scopes.split(",") if s.strip()],
                expires_at=expires_at,
                actor=Actor.system("create_api_key"),
            )
        except ValidationError as exc:
            problems = "; ".join(m for ms in exc.message_dict.values() for m in ms)
            raise CommandError(problems) from exc
        api_key = created.api_key
        self.stdout.write(
            f"Created API key {api_key.name!r} with scopes "
            f"{', '.join(api_key.scopes)}"
            + (
                f", expiring {api_key.expires_at:%Y-%m-%d %H:%M %Z}"
                if expires_at
                else ""
            )
            + ". Store it now: it is not shown again.\n"
        )
        self.stdout.write(created.key)

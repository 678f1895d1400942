"""`manage.py create_demo_admin`: a superuser for the local demo, with a fresh random
password on every run, printed so that `make run` always shows a working login."""

import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

DEFAULT_USERNAME = "admin"
DEFAULT_LOGIN_URL = "http://127.0.0.1:8000/admin/"


class Command(BaseCommand):
    help = (
        "Create the demo superuser, or give it a new random password if it exists, "
        "and print the login. For local demos only: it resets that user's password."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", default=DEFAULT_USERNAME)
        parser.add_argument(
            "--url", default=DEFAULT_LOGIN_URL, help="Login address to print."
        )

    def handle(self, *args, username, url, **options):
        password = secrets.token_urlsafe(16)
        created = _ensure_superuser(username=username, password=password)
        verb = "Created" if created else "Reset the password of"
        self.stdout.write(self.style.SUCCESS(f"{verb} the demo admin."))
        self.stdout.write(f"  Login:    {url}")
        self.stdout.write(f"  Username: {username}")
        self.stdout.write(f"  Password: {password}")


@transaction.atomic
def _ensure_superuser(*, username: str, password: str) -> bool:
    """Create or update the superuser; True when it was created."""
    User = get_user_model()
    user = User._default_manager.filter(**{User.USERNAME_FIELD: username}).first()
    if user is None:
        User._default_manager.create_superuser(
            **{User.USERNAME_FIELD: username}, email="", password=password
        )
        return True
    user.is_active = user.is_staff = user.is_superuser = True
    user.set_password(password)
    user.save()
    return False

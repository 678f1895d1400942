"""`manage.py create_demo_admin`: a superuser for the local demo, printed so that
`make run` always shows a working login. Its password is made once and kept in a
git-ignored file beside the database, so it stays the same across runs."""

import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

DEFAULT_USERNAME = "admin"
DEFAULT_LOGIN_URL = "http://127.0.0.1:8000/admin/"
DEFAULT_PASSWORD_FILE = settings.BASE_DIR / ".demo-admin-password"


class Command(BaseCommand):
    help = (
        "Create the demo superuser and print the login. Its password is kept in a "
        "file and reused; a new one is made when the file is missing or no longer "
        "works. For local demos only."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", default=DEFAULT_USERNAME)
        parser.add_argument(
            "--url", default=DEFAULT_LOGIN_URL, help="Login address to print."
        )
        parser.add_argument(
            "--password-file",
            type=Path,
            default=DEFAULT_PASSWORD_FILE,
            help="Where the demo password is kept between runs.",
        )

    def handle(self, *args, username, url, password_file, **options):
        password = _kept_password(password_file, username)
        if password:
            verb = "Kept"
        else:
            password = secrets.token_urlsafe(16)
            created = _ensure_superuser(username=username, password=password)
            password_file.write_text(password)
            password_file.chmod(0o600)
            verb = "Created" if created else "Set a new password for"
        self.stdout.write(self.style.SUCCESS(f"{verb} the demo admin."))
        self.stdout.write(f"  Login:    {url}")
        self.stdout.write(f"  Username: {username}")
        self.stdout.write(f"  Password: {password}")


def _kept_password(path: Path, username: str) -> str | None:
    """The kept password, if it still logs the user in as an active superuser."""
    if not path.exists():
        return None
    password = path.read_text().strip()
    user = authenticate(username=username, password=password)
    return password if user and user.is_superuser and user.is_staff else None


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

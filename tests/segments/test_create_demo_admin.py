import re
from io import StringIO

from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command

from tests.factories import UserFactory


def password_from(output: str) -> str:
    return re.search(r"Password: (\S+)", output).group(1)


def create_demo_admin(*args: str) -> str:
    out = StringIO()
    call_command("create_demo_admin", *args, stdout=out)
    return out.getvalue()


def test_create_demo_admin__no_user__superuser_with_printed_password(db):
    output = create_demo_admin()

    user = authenticate(username="admin", password=password_from(output))
    assert user is not None
    assert user.is_superuser and user.is_staff
    assert "http://127.0.0.1:8000/admin/" in output
    assert "Username: admin" in output


def test_create_demo_admin__second_run__new_password_works_old_one_not(db):
    first = password_from(create_demo_admin())

    second = password_from(create_demo_admin())

    assert second != first
    assert authenticate(username="admin", password=second) is not None
    assert authenticate(username="admin", password=first) is None
    assert get_user_model().objects.filter(username="admin").count() == 1


def test_create_demo_admin__existing_inactive_user__promoted_with_new_password(
    db,
):
    UserFactory(username="demo", is_superuser=False, is_active=False)

    output = create_demo_admin("--username", "demo")

    user = authenticate(username="demo", password=password_from(output))
    assert user is not None
    assert user.is_superuser

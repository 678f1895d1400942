import re
from io import StringIO

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command

from tests.factories import UserFactory


@pytest.fixture
def password_file(tmp_path):
    return tmp_path / "demo-password"


def password_from(output: str) -> str:
    return re.search(r"Password: (\S+)", output).group(1)


def create_demo_admin(password_file, *args: str) -> str:
    out = StringIO()
    call_command(
        "create_demo_admin", "--password-file", str(password_file), *args, stdout=out
    )
    return out.getvalue()


def test_create_demo_admin__no_user__superuser_with_printed_password(db, password_file):
    output = create_demo_admin(password_file, "--url", "http://127.0.0.1:8123/admin/")

    user = authenticate(username="admin", password=password_from(output))
    assert user is not None
    assert user.is_superuser and user.is_staff
    assert "http://127.0.0.1:8123/admin/" in output
    assert "Username: admin" in output
    assert password_file.read_text() == password_from(output)


def test_create_demo_admin__second_run__same_password_kept(db, password_file):
    first = password_from(create_demo_admin(password_file))

    output = create_demo_admin(password_file)

    assert password_from(output) == first
    assert "Kept the demo admin." in output
    assert authenticate(username="admin", password=first) is not None
    assert get_user_model().objects.filter(username="admin").count() == 1


def test_create_demo_admin__kept_password_changed_meanwhile__new_one_saved(
    db, password_file
):
    first = password_from(create_demo_admin(password_file))
    user = get_user_model().objects.get(username="admin")
    user.set_password("changed-by-hand")
    user.save()

    second = password_from(create_demo_admin(password_file))

    assert second != first
    assert authenticate(username="admin", password=second) is not None


def test_create_demo_admin__existing_inactive_user__promoted_with_new_password(
    db, password_file
):
    UserFactory(username="demo", is_superuser=False, is_active=False)

    output = create_demo_admin(password_file, "--username", "demo")

    user = authenticate(username="demo", password=password_from(output))
    assert user is not None
    assert user.is_superuser

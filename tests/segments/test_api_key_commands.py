from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from segments.models import ApiKey, IdempotentRequest
from segments.services import api_key_authenticate
from tests.api.conftest import new_key


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_create_api_key__scopes__key_printed_once_and_usable(db):
    output = run(
        "create_api_key",
        "--name",
        "CRM",
        "--scopes",
        "read, ingest",
        "--expires-in-days",
        "30",
    )

    key = output.strip().splitlines()[-1]
    api_key = api_key_authenticate(key=key)
    assert api_key is not None
    assert (api_key.name, api_key.scopes) == ("CRM", ["read", "ingest"])
    assert api_key.expires_at > timezone.now() + timedelta(days=29)
    assert key.split("_", 2)[2] not in str(ApiKey.objects.values_list())


def test_create_api_key__unknown_scope__refused_naming_it(db):
    with pytest.raises(CommandError, match="'admin'"):
        run("create_api_key", "--name", "CRM", "--scopes", "read,admin")

    assert not ApiKey.objects.exists()


def test_purge_idempotency_keys__old_and_new__only_old_deleted(db):
    api_key = new_key("write").api_key
    for key in ("old", "new"):
        IdempotentRequest.objects.create(
            api_key=api_key, key=key, method="POST", path="/", body_hash=""
        )
    IdempotentRequest.objects.filter(key="old").update(
        created_at=timezone.now() - timedelta(hours=25)
    )

    assert "Deleted 1" in run("purge_idempotency_keys")
    assert list(IdempotentRequest.objects.values_list("key", flat=True)) == ["new"]

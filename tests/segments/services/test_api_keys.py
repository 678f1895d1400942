from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from segments.models import ApiKey
from segments.services import api_key_authenticate, api_key_create, api_key_revoke


def test_api_key_create__clear_key_authenticates_and_only_hash_stored(actor):
    created = api_key_create(name="CRM sync", scopes=["write", "read"], actor=actor)

    stored = ApiKey.objects.get()
    assert created.key.startswith(f"sk_{stored.prefix}_")
    secret = created.key.split("_", 2)[2]
    assert secret not in stored.secret_hash
    assert stored.scopes == ["read", "write"]
    assert api_key_authenticate(key=created.key) == stored
    stored.refresh_from_db()
    assert stored.last_used_at is not None


@pytest.mark.parametrize(
    "key_text",
    ["", "garbage", "sk_nope_nope", "Bearer x"],
)
def test_api_key_authenticate__unknown_key__none(actor, key_text):
    api_key_create(name="CRM", scopes=["read"], actor=actor)

    assert api_key_authenticate(key=key_text) is None


def test_api_key_authenticate__right_prefix_wrong_secret__none(actor):
    created = api_key_create(name="CRM", scopes=["read"], actor=actor)
    prefix = created.api_key.prefix

    assert api_key_authenticate(key=f"sk_{prefix}_wrong-secret") is None


def test_api_key_revoke__next_authentication_fails(actor):
    created = api_key_create(name="CRM", scopes=["read"], actor=actor)

    api_key_revoke(api_key=created.api_key, actor=actor)

    assert api_key_authenticate(key=created.key) is None


def test_api_key_authenticate__expired__none(actor):
    created = api_key_create(
        name="Temp",
        scopes=["read"],
        actor=actor,
        expires_at=timezone.now() + timedelta(hours=1),
    )
    ApiKey.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    assert api_key_authenticate(key=created.key) is None


@pytest.mark.parametrize(
    ("fields", "error_field"),
    [
        ({"name": "", "scopes": ["read"]}, "name"),
        ({"name": "X", "scopes": []}, "scopes"),
        ({"name": "X", "scopes": ["admin"]}, "scopes"),
        ({"name": "X", "scopes": ["read"], "expires_at_days": -1}, "expires_at"),
    ],
)
def test_api_key_create__bad_input__error_names_field(actor, fields, error_field):
    fields = dict(fields)
    days = fields.pop("expires_at_days", None)
    if days is not None:
        fields["expires_at"] = timezone.now() + timedelta(days=days)

    with pytest.raises(ValidationError) as error:
        api_key_create(actor=actor, **fields)

    assert error_field in error.value.message_dict
    assert not ApiKey.objects.exists()

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from segments.models import ApiKey

from .actors import Actor

KEY_PREFIX = "sk"
# Writing last_used_at on every request would make each read a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class ApiKeyCreated:
    api_key: ApiKey
    key: str  # shown once, never stored


def _hash(secret: str) -> str:
    # The secret is 256 random bits: a fast hash is enough, no stretching needed.
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def api_key_create(
    *,
    name: str,
    scopes: list[str],
    actor: Actor,
    expires_at: datetime | None = None,
) -> ApiKeyCreated:
    name = (name or "").strip()
    valid = set(ApiKey.Scope.values)
    errors = {}
    if not name:
        errors["name"] = "A key needs a name saying who uses it."
    if not scopes or not set(scopes) <= valid:
        wrong = sorted(set(scopes or []) - valid)
        errors["scopes"] = (
            f"Unknown scope {wrong[0]!r}; " if wrong else "At least one scope; "
        ) + f"expected some of {', '.join(ApiKey.Scope.values)}."
    if expires_at and expires_at <= timezone.now():
        errors["expires_at"] = "The expiry must be in the future."
    if errors:
        raise ValidationError(errors)
    prefix, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    api_key = ApiKey.objects.create(
        name=name,
        scopes=[s for s in ApiKey.Scope.values if s in scopes],
        prefix=prefix,
        secret_hash=_hash(secret),
        created_by=actor.user,
        expires_at=expires_at,
    )
    return ApiKeyCreated(api_key=api_key, key=f"{KEY_PREFIX}_{prefix}_{secret}")


@transaction.atomic
def api_key_revoke(*, api_key: ApiKey, actor: Actor) -> ApiKey:
    if not api_key.revoked:
        api_key.revoked = True
        api_key.save(update_fields=["revoked"])
    return api_key


def api_key_authenticate(*, key: str) -> ApiKey | None:
    """The usable key matching this clear key, or None (unknown, revoked, expired)."""
    key = key or ""
    if not key.isascii() or not key.isprintable():
        return None  # no key of ours; a NUL could not even be looked up in PostgreSQL
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX:
        return None
    api_key = ApiKey.objects.filter(prefix=parts[1]).first()
    if api_key is None or not hmac.compare_digest(api_key.secret_hash, _hash(parts[2])):
        return None
    now = timezone.now()
    if not api_key.is_usable(now):
        return None
    if (
        api_key.last_used_at is None
        or now - api_key.last_used_at > LAST_USED_RESOLUTION
    ):
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
    return api_key

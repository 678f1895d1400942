import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from segments.models import ApiKey

from .actors import Actor

KEY_PREFIX = "sk"
# Writing last_used_at on every request would make each read a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)
# A request reads its key from this process's memory (kept LOCAL_SECONDS), else
# from the default cache (kept CACHE_SECONDS), else from the database. A revoke
# forgets the key in this process and marks it revoked in the cache at once: other
# processes refuse it within LOCAL_SECONDS when they share the cache (Redis), within
# CACHE_SECONDS when each has its own (locmem). Expiry is checked on every request.
LOCAL_SECONDS = 5
CACHE_SECONDS = 30
REVOKED = "revoked"  # the cache's mark for a revoked key: never replaced by a read
# prefix -> (monotonic time it is good until, the key or None when revoked)
_local: dict[str, tuple[float, ApiKey | None]] = {}
# When this process last wrote each key's last_used_at (by prefix: pks are reused
# by rolled-back tests), so that a cached key is not written on every request.
_last_written: dict[str, datetime] = {}


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
        # At once, so no request reads the key back into the cache meanwhile, and
        # again after the commit, in case the mark expired during a long transaction.
        # Rolled back, the key stays refused for CACHE_SECONDS at most: safe side.
        _mark_revoked(api_key.prefix)
        transaction.on_commit(lambda: _mark_revoked(api_key.prefix))
    return api_key


def _cache_key(prefix: str) -> str:
    return f"api-key:{prefix}"


def _mark_revoked(prefix: str) -> None:
    _local.pop(prefix, None)
    cache.set(_cache_key(prefix), REVOKED, CACHE_SECONDS)


def _key_by_prefix(prefix: str) -> ApiKey | None:
    now = time.monotonic()
    until, api_key = _local.get(prefix, (0.0, None))
    if until > now:
        return api_key
    api_key = _shared_key_by_prefix(prefix)
    if api_key is not None or prefix in _local:  # unknown prefixes take no memory
        _local[prefix] = (now + LOCAL_SECONDS, api_key)
    return api_key


def _shared_key_by_prefix(prefix: str) -> ApiKey | None:
    """The key with this prefix: from the cache, else from the database (and then
    cached, unless a revoke marked it meanwhile: `add` does not replace the mark)."""
    found = cache.get(_cache_key(prefix))
    if found == REVOKED:
        return None
    if found is not None:
        return found
    api_key = ApiKey.objects.filter(prefix=prefix).first()
    if api_key is not None:
        cache.add(_cache_key(prefix), api_key, CACHE_SECONDS)
    return api_key


def _note_use(api_key: ApiKey, now: datetime) -> None:
    last = _last_written.get(api_key.prefix) or api_key.last_used_at
    if last is None or now - last > LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        _last_written[api_key.prefix] = api_key.last_used_at = now


def api_key_authenticate(*, key: str) -> ApiKey | None:
    """The usable key matching this clear key, or None (unknown, revoked, expired)."""
    key = key or ""
    if not key.isascii() or not key.isprintable():
        return None  # no key of ours; a NUL could not even be looked up in PostgreSQL
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX:
        return None
    api_key = _key_by_prefix(parts[1])
    if api_key is None or not hmac.compare_digest(api_key.secret_hash, _hash(parts[2])):
        return None
    now = timezone.now()
    if not api_key.is_usable(now):  # expiry is checked on every request
        return None
    _note_use(api_key, now)
    return api_key

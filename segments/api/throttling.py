"""Requests per API key, counted in fixed windows in the default cache.

One counter per key and window, raised with one cache round trip per request. DRF's
`SimpleRateThrottle` keeps every request's time of the last window in one cache
value, read and written back whole on each request: two round trips, and at a high
rate a list of thousands of floats pickled each time. A fixed window lets a key send
up to twice its rate across a window's edge; for a limit that protects the service,
that is the usual trade (GitHub's and Stripe's limits are fixed windows too).
"""

import math
import time
import weakref

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from rest_framework.throttling import BaseThrottle

from segments.models import ApiKey

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# One Redis client per cache back-end (Django makes one per thread): Django's own
# calls build a new client each time, which costs more than the round trip.
_clients: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def parse_rate(rate: str) -> tuple[int, int]:
    """ "1200/min" -> (1200, 60): requests allowed per window of so many seconds."""
    count, _, period = rate.partition("/")
    try:
        return int(count), PERIODS[period.strip()[:1]]
    except (ValueError, KeyError):
        raise ValueError(
            f"API_THROTTLE_RATE {rate!r}: expected requests/period, e.g. 1200/min "
            "(period s, min, hour or day)."
        ) from None


def count_request(key: str, seconds: int) -> int:
    """Add one to the counter `key`, which lives `seconds`; returns the new count."""
    cache = caches["default"]
    if isinstance(cache, RedisCache):
        # Django's incr() asks whether the key exists first: two round trips. One
        # MULTI does it in one: create the counter with its expiry if missing, add 1.
        name = cache.make_and_validate_key(key)
        client = _clients.get(cache)
        if client is None:
            client = _clients[cache] = cache._cache.get_client(name, write=True)
        pipe = client.pipeline(transaction=True)
        pipe.set(name, 0, ex=seconds, nx=True)
        pipe.incr(name)
        return int(pipe.execute()[1])
    # In-process and other caches: add() leaves an existing counter alone.
    cache.add(key, 0, seconds)
    try:
        return cache.incr(key)
    except ValueError:  # expired between the two calls: a new window
        cache.add(key, 1, seconds)
        return 1


class ApiKeyRateThrottle(BaseThrottle):
    """At most settings.API_THROTTLE_RATE requests (e.g. "1200/min") per API key.

    Counts live in the default cache: set CACHE_URL to a shared cache when several
    processes serve the API, or each counts on its own.
    """

    wait_seconds: float | None = None

    def allow_request(self, request, view) -> bool:
        # The rate is read at each request, so that tests and settings changes apply.
        rate = settings.API_THROTTLE_RATE
        if not rate or not isinstance(request.auth, ApiKey):
            return True  # unauthenticated requests fail before they count
        limit, seconds = parse_rate(rate)
        now = time.time()
        window = math.floor(now / seconds)
        count = count_request(f"throttle:api-key:{request.auth.pk}:{window}", seconds)
        if count <= limit:
            return True
        self.wait_seconds = (window + 1) * seconds - now
        return False

    def wait(self) -> float | None:
        return self.wait_seconds

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle


class ApiKeyRateThrottle(SimpleRateThrottle):
    """Requests per API key, at settings.API_THROTTLE_RATE (e.g. "1200/min").

    Counts live in the default cache: set CACHE_URL to a shared cache when several
    processes serve the API, or each counts on its own.
    """

    scope = "api_key"

    def get_rate(self) -> str | None:
        # Read at each request, so that tests and settings changes take effect.
        return settings.API_THROTTLE_RATE or None

    def get_cache_key(self, request, view) -> str | None:
        if request.auth is None or not hasattr(request.auth, "pk"):
            return None  # unauthenticated requests fail before they count
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}

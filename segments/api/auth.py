"""API keys: `X-API-Key: <key>` or `Authorization: Bearer <key>`, and their scopes.

GETs need `read`, other methods `write`; a view names other scopes per method in
`scopes` (customers upsert and events take `ingest`).
"""

from dataclasses import dataclass

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions

from segments.models import ApiKey
from segments.services import api_key_authenticate

HEADER = "X-API-Key"
REALM = 'Bearer realm="segments"'
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


@dataclass(frozen=True)
class ApiKeyHolder:
    """request.user for a request made with an API key; request.auth is the key."""

    api_key: ApiKey
    is_authenticated = True
    is_anonymous = False


class ApiKeyAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        key = self.sent_key(request)
        if key is None:
            return None
        api_key = api_key_authenticate(key=key)
        if api_key is None:
            raise exceptions.AuthenticationFailed(
                "This API key is unknown, revoked or expired."
            )
        return ApiKeyHolder(api_key), api_key

    def sent_key(self, request) -> str | None:
        return _sent_key(request)

    def authenticate_header(self, request) -> str:
        # Makes DRF answer 401 (not 403) when the key is missing or wrong.
        return REALM


def _sent_key(request) -> str | None:
    key = request.headers.get(HEADER)
    if key is None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        key = token if scheme.lower() == "bearer" else None
    return key.strip() if key is not None else None


class HasScope(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        api_key = request.auth
        if not isinstance(api_key, ApiKey):
            raise exceptions.NotAuthenticated(
                f"Send an API key in {HEADER} or Authorization: Bearer."
            )
        scope = required_scope(view, request.method)
        if scope not in api_key.scopes:
            raise exceptions.PermissionDenied(
                f'This API key lacks the "{scope}" scope that {request.method} '
                f"{request.path} needs; it has: {', '.join(api_key.scopes)}."
            )
        return True


def required_scope(view, method: str) -> str:
    default = ApiKey.Scope.READ if method in SAFE_METHODS else ApiKey.Scope.WRITE
    return getattr(view, "scopes", {}).get(method, default)


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    """Both ways of sending the key, as alternatives, in the OpenAPI schema."""

    target_class = ApiKeyAuthentication
    name = ["ApiKeyHeader", "BearerKey"]

    def get_security_requirement(self, auto_schema):
        return [{name: []} for name in self.name]

    def get_security_definition(self, auto_schema):
        return [
            {"type": "apiKey", "in": "header", "name": HEADER},
            {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "sk_<prefix>_<secret>",
            },
        ]

from dataclasses import dataclass
from typing import Any

from segments.models import ApiKey
from segments.models.memberships import ActorType, Source

_SOURCE_OF_ACTOR = {
    ActorType.ADMIN: Source.ADMIN,
    ActorType.API: Source.API,
    ActorType.RULE: Source.RULE,
    ActorType.EVENT: Source.EVENT,
    ActorType.CSV: Source.CSV,
    # Management commands and demo data act for an operator.
    ActorType.SYSTEM: Source.ADMIN,
}


@dataclass(frozen=True)
class Actor:
    """Who or what makes a change, for the audit trail. Never the request."""

    Type = ActorType

    type: ActorType
    label: str
    user: Any = None
    api_key: ApiKey | None = None

    @classmethod
    def admin(cls, user) -> "Actor":
        return cls(ActorType.ADMIN, f"admin: {user.get_username()}", user=user)

    @classmethod
    def api(cls, api_key: ApiKey) -> "Actor":
        return cls(ActorType.API, f"api: {api_key.name}", api_key=api_key)

    @classmethod
    def csv(cls, filename: str, user=None) -> "Actor":
        return cls(ActorType.CSV, f"csv: {filename}", user=user)

    @classmethod
    def rule(cls, segment) -> "Actor":
        return cls(ActorType.RULE, f"rule: {segment.name}")

    @classmethod
    def event(cls, name: str) -> "Actor":
        return cls(ActorType.EVENT, f"event: {name}")

    @classmethod
    def system(cls, label: str) -> "Actor":
        return cls(ActorType.SYSTEM, f"system: {label}")

    @property
    def source(self) -> Source:
        return _SOURCE_OF_ACTOR[self.type]

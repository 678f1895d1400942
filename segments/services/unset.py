"""A default that tells a field left out from one given as None (partial updates)."""

from typing import Any

UNSET: Any = object()

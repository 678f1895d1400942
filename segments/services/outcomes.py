"""What a write changed for some customers, for an answer that says so: where they
stand before and after (segments here; other apps register what they hold, so
segments imports none of them)."""

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from segments.models import Membership

from .bulk import any_of

# customer ids -> {customer id: ids of what they are in}
Reader = Callable[[list[int]], dict[int, set[int]]]

_readers: dict[str, Reader] = {}


def outcome_reader_register(name: str, reader: Reader) -> None:
    """Another app's part of the answer: `campaigns` registers its enrollments."""
    _readers[name] = reader


def _segments_of(customer_ids: list[int]) -> dict[int, set[int]]:
    return grouped(
        Membership.objects.members()
        .filter(any_of("customer_id", customer_ids))
        .values_list("customer_id", "segment_id")
    )


def grouped(pairs: Iterable[tuple[int, int]]) -> dict[int, set[int]]:
    found: dict[int, set[int]] = defaultdict(set)
    for key, value in pairs:
        found[key].add(value)
    return found


Snapshot = dict[str, dict[int, set[int]]]


def snapshot(customer_ids: list[int]) -> Snapshot:
    readers = {"segments": _segments_of, **_readers}
    if not customer_ids:
        return {name: {} for name in readers}
    return {name: read(customer_ids) for name, read in readers.items()}


@dataclass(frozen=True)
class Outcome:
    segments_entered: list[int]
    segments_left: list[int]
    campaigns_entered: list[int]


def outcome_of(before: Snapshot, after: Snapshot, customer_id: int) -> Outcome:
    def held(snap: Snapshot, name: str) -> set[int]:
        return snap.get(name, {}).get(customer_id, set())

    def gained(name: str) -> list[int]:
        return sorted(held(after, name) - held(before, name))

    return Outcome(
        segments_entered=gained("segments"),
        segments_left=sorted(held(before, "segments") - held(after, "segments")),
        campaigns_entered=gained("campaigns"),
    )

import threading
from itertools import pairwise

import pytest
from django.db import close_old_connections, connection

from segments.models import Membership, MembershipChange, Segment
from segments.services import (
    Actor,
    segment_create,
    segment_members_add,
    segment_members_remove,
)
from tests.factories import CustomerFactory
from tests.markers import requires_postgres

WORKERS = 2
ROUNDS = 5


def run_concurrently(target, count):
    """Start `count` threads at the same instant; each uses its own connection."""
    barrier = threading.Barrier(count)
    errors = []

    def worker():
        try:
            barrier.wait()
            target()
        except Exception as exc:  # reported below, so the test shows it
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_members_add__two_concurrent_adds__one_row_one_history_no_error():
    actor = Actor.system("test")
    segment = segment_create(name="Race", type=Segment.Type.STATIC, actor=actor)
    for _ in range(ROUNDS):
        # Given a customer that two requests add at the same instant
        customer = CustomerFactory()

        # When they run concurrently
        errors = run_concurrently(
            lambda c=customer: segment_members_add(
                segment=segment, customers=[c], actor=actor
            ),
            WORKERS,
        )

        # Then neither fails, and there is one membership and one history row
        assert errors == []
        assert Membership.objects.filter(customer=customer).count() == 1
        assert MembershipChange.objects.filter(customer=customer).count() == 1


HISTORY_THREADS = 4
HISTORY_CALLS = 15


def valid_chain(changes) -> bool:
    """Each change starts where the one before it ended."""
    return all(
        later.was_member == earlier.is_member for earlier, later in pairwise(changes)
    )


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_history__adds_and_removes_racing__valid_chain_in_time_order():
    actor = Actor.system("test")
    segment = segment_create(name="Race", type=Segment.Type.STATIC, actor=actor)
    customer = CustomerFactory()

    def toggle():
        for _ in range(HISTORY_CALLS):
            segment_members_add(segment=segment, customers=[customer], actor=actor)
            segment_members_remove(segment=segment, customers=[customer], actor=actor)

    # When threads add and remove the same customer at the same time
    errors = run_concurrently(toggle, HISTORY_THREADS)

    # Then the history, in the admin's order (by time), is a chain of real steps
    assert errors == []
    changes = list(MembershipChange.objects.order_by("occurred_at", "id"))
    assert len(changes) >= 2
    assert valid_chain(changes)

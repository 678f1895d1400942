import threading

import pytest
from django.db import close_old_connections, connection

from segments.models import Membership, MembershipChange, Segment
from segments.services import Actor, segment_create, segment_members_add
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

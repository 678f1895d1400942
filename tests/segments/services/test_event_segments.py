"""Day spans an event-triggered segment takes (expiry, backfill) are bounded once,
on the model, for every face."""

import pytest
from django.core.exceptions import ValidationError

from segments.models import Membership, Segment
from segments.services import Actor, segment_create
from segments.services.event_segments import segment_backfill
from tests.factories import EventFactory

SYSTEM = Actor.system("tests")


@pytest.fixture
def signups(db):
    return segment_create(
        name="Sign-ups", type="event", trigger_event="Sign Up", actor=SYSTEM
    )


@pytest.mark.parametrize("days", [0, Segment.MAX_DAYS + 1, 10**9])
def test_segment_backfill__days_out_of_range__error_nothing_entered(signups, days):
    EventFactory(name="Sign Up")

    with pytest.raises(ValidationError, match="36,500"):
        segment_backfill(segment=signups, actor=SYSTEM, days=days)

    assert not Membership.objects.exists()


def test_segment_create__exit_after_days_past_the_bound__error_on_it(db):
    with pytest.raises(ValidationError) as raised:
        segment_create(
            name="Sign-ups",
            type="event",
            trigger_event="Sign Up",
            exit_after_days=Segment.MAX_DAYS + 1,
            actor=SYSTEM,
        )

    assert "exit_after_days" in raised.value.message_dict
    assert not Segment.objects.exists()

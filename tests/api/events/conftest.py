import pytest

from campaigns.services import campaign_create
from segments.models import Segment
from segments.services import Actor, segment_create

SYSTEM = Actor.system("tests")


@pytest.fixture
def signup_segment(db):
    """Event-triggered by "Sign Up", for customers on the pro plan."""
    return segment_create(
        name="Pro sign-ups",
        type=Segment.Type.EVENT,
        trigger_event="Sign Up",
        rules={
            "conditions": [
                {"field": "event.plan", "operator": "equals", "value": "pro"}
            ]
        },
        actor=SYSTEM,
    )


@pytest.fixture
def buyers_segment(db):
    """A rule segment whose behaviour reads "purchase"."""
    return segment_create(
        name="Buyers",
        type=Segment.Type.RULE,
        rules={
            "conditions": [{"event": "purchase", "operator": "at_least", "value": 1}]
        },
        actor=SYSTEM,
    )


@pytest.fixture
def onboarding(signup_segment):
    return campaign_create(
        name="Onboarding", status="active", segments=[signup_segment], actor=SYSTEM
    )


def event(user_id="u1", name="Sign Up", **fields):
    return {"user_id": user_id, "name": name, **fields}

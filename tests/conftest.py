import pytest

from segments.models import Segment
from segments.services import Actor, segment_create

from .factories import CustomerFactory, UserFactory


@pytest.fixture
def admin_user(db):
    return UserFactory(username="alice")


@pytest.fixture
def alice(client, admin_user):
    """The test client, logged in to the admin as alice."""
    client.force_login(admin_user)
    return client


@pytest.fixture
def actor(admin_user):
    return Actor.admin(admin_user)


@pytest.fixture
def customer(db):
    return CustomerFactory()


@pytest.fixture
def static_segment(actor):
    return segment_create(name="VIP list", type=Segment.Type.STATIC, actor=actor)


@pytest.fixture
def rule_segment(actor):
    return segment_create(
        name="Facebook users",
        type=Segment.Type.RULE,
        actor=actor,
        rules={
            "match": "all",
            "conditions": [
                {
                    "field": "attributes.channel",
                    "operator": "equals",
                    "value": "Facebook",
                }
            ],
        },
    )


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    # Uploaded import files are stored: keep them out of the work tree.
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # The default hasher is slow on purpose; tests only need it to work.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

import factory
from django.contrib.auth import get_user_model

from campaigns.models import Campaign
from segments.models import Customer, Event, Segment


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"marketer{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    is_staff = True
    is_superuser = True
    password = factory.django.Password("correct-horse-battery")


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    external_id = factory.Sequence(lambda n: f"cust-{n}")
    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    attributes = factory.LazyFunction(lambda: {"channel": "Facebook", "plan": "free"})


class SegmentFactory(factory.django.DjangoModelFactory):
    """Raw rows for reading tests; services build segments in write tests."""

    class Meta:
        model = Segment

    name = factory.Sequence(lambda n: f"Segment {n}")
    type = Segment.Type.STATIC


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    name = factory.Sequence(lambda n: f"Campaign {n}")
    status = Campaign.Status.ACTIVE


class EventFactory(factory.django.DjangoModelFactory):
    """Raw rows for reading tests: the API records events through event_record."""

    class Meta:
        model = Event

    customer = factory.SubFactory(CustomerFactory)
    name = "purchase"
    properties = factory.LazyFunction(lambda: {"amount": 42})

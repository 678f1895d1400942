"""Test users named the way a marketer knows them: by id or email, in one step."""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction

from segments.models import Customer, Segment
from segments.selectors import customer_by_user

from .actors import Actor
from .customers import customer_upsert
from .overrides import segment_test_user_add
from .unset import UNSET


@dataclass(frozen=True)
class TestUserAddResult:
    customer: Customer
    created: bool  # no customer had this id or email: one was made
    changed: bool  # False when they were a test user already


@transaction.atomic
def segment_test_user_add_by_user(
    *, segment: Segment, user: str, actor: Actor
) -> TestUserAddResult:
    """Make the customer named by `user` (an external id or, failing that, an
    email) a test user of the segment; a customer nobody has yet is created, with
    `user` as external id (and as email when it is one)."""
    user = (user or "").strip()
    if not user:
        raise ValidationError({"user": "Give the customer's id or email."})
    customer = customer_by_user(user=user)
    created = customer is None
    if customer is None:
        email = user if "@" in user else UNSET
        customer = customer_upsert(external_id=user, email=email, actor=actor).customer
    state = segment_test_user_add(segment=segment, customer=customer, actor=actor)
    return TestUserAddResult(customer=customer, created=created, changed=state.changed)

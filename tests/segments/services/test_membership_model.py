"""The membership services against a small in-memory model (hypothesis stateful).

Random sequences of adds, removes, overrides, test users, attribute changes that
flip the rules, trigger events, recomputes and erasures, on a static, a rule and an
event-triggered segment. After every step the database must say what the model
says: for the rule segment, members = (rule matches + `add` overrides + test users)
- `block` overrides; one row per (segment, customer); one history row per effective
change; and each customer's history, in time order, a valid chain.
"""

from dataclasses import dataclass, field
from itertools import pairwise

import pytest
from django.db.models import Count
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from segments.models import Customer, Membership, MembershipChange, Segment
from segments.services import (
    Actor,
    customer_erase,
    customer_upsert,
    event_record,
    segment_create,
    segment_members_add,
    segment_members_remove,
    segment_override_set,
    segment_test_user_add,
    segment_test_user_remove,
)
from segments.services.compute import segment_recompute

SLOTS = 3
KINDS = ("static", "rule", "event")
TRIGGER = "signup"
PRO_RULE = {
    "match": "all",
    "conditions": [{"field": "attributes.plan", "operator": "equals", "value": "pro"}],
}
# Figures for docs/reliability.md.
MAX_EXAMPLES = 40
STEPS = 30

slots = st.integers(0, SLOTS - 1)
kinds = st.sampled_from(KINDS)


@dataclass
class Row:
    """What the model knows of one (segment, customer): no row is None."""

    override: str = "none"  # none / add / block
    test: bool = False


@dataclass
class Model:
    plans: dict[int, str] = field(default_factory=dict)  # slot -> plan
    rows: dict[tuple[str, int], Row] = field(default_factory=dict)
    history: int = 0

    def matches(self, kind: str, slot: int) -> bool:
        return kind == "rule" and self.plans.get(slot) == "pro"

    def member(self, kind: str, slot: int) -> bool:
        row = self.rows.get((kind, slot))
        if kind == "rule":
            if row and row.override != "none":
                return row.override == "add"
            return self.matches(kind, slot)
        return row is not None and row.override != "block"

    def row(self, kind: str, slot: int) -> Row | None:
        """The row the database should hold: the rule segment's rule members too."""
        row = self.rows.get((kind, slot))
        if row is None and self.member(kind, slot):
            return Row()
        return row

    def rules_decide(self) -> None:
        """The rule segment's rows without an override are the rules' to keep: they
        go when the rules stop matching, and a plain one is implied by `member`."""
        for slot in list(self.plans):
            row = self.rows.get(("rule", slot))
            plain = row and row.override == "none"
            if plain and (not self.matches("rule", slot) or not row.test):
                del self.rows[("rule", slot)]


class MembershipMachine(RuleBasedStateMachine):
    @initialize(plans=st.lists(st.sampled_from(["pro", "free"]), min_size=SLOTS))
    def setup(self, plans):
        for model in (MembershipChange, Membership, Customer, Segment):
            model.objects.all().delete()
        self.actor = Actor.system("model")
        self.segments = {
            "static": segment_create(name="S", type="static", actor=self.actor),
            "rule": segment_create(
                name="R", type="rule", rules=PRO_RULE, actor=self.actor
            ),
            "event": segment_create(
                name="E", type="event", trigger_event=TRIGGER, actor=self.actor
            ),
        }
        self.customers: dict[int, Customer] = {}
        self.erased: list[Customer] = []
        self.serial = 0
        self.model = Model()
        for slot, plan in enumerate(plans[:SLOTS]):
            self.new_customer(slot, plan)

    # Customers

    @precondition(lambda self: len(self.customers) < SLOTS)
    @rule(slot=slots, plan=st.sampled_from(["pro", "free"]))
    def new_customer(self, slot, plan):
        if slot in self.customers:
            return
        self.serial += 1
        result = customer_upsert(
            external_id=f"c{self.serial}", attributes={"plan": plan}, actor=self.actor
        )
        self.customers[slot] = result.customer
        self.model.plans[slot] = plan
        self.model.history += self.model.member("rule", slot)

    @rule(slot=slots, plan=st.sampled_from(["pro", "free"]))
    def change_plan(self, slot, plan):
        if slot not in self.customers:
            return
        was = self.model.member("rule", slot)
        customer_upsert(
            external_id=self.customers[slot].external_id,
            attributes={"plan": plan},
            actor=self.actor,
        )
        self.model.plans[slot] = plan
        self.model.rules_decide()
        self.model.history += was != self.model.member("rule", slot)

    @rule(slot=slots)
    def erase(self, slot):
        if slot not in self.customers:
            return
        customer = self.customers.pop(slot)
        customer_erase(customer=customer, actor=self.actor)
        for kind in KINDS:
            self.model.history += self.model.member(kind, slot)
            self.model.rows.pop((kind, slot), None)
        self.model.plans.pop(slot)
        self.erased.append(customer)

    @precondition(lambda self: self.erased)
    @rule(kind=kinds, index=st.integers(0, 10))
    def write_for_erased(self, kind, index):
        customer = self.erased[index % len(self.erased)]
        with pytest.raises(Customer.DoesNotExist):
            segment_members_add(
                segment=self.segments[kind], customers=[customer], actor=self.actor
            )

    # Membership changes

    @rule(kind=kinds, slot=slots)
    def add(self, kind, slot):
        if slot not in self.customers:
            return
        segment_members_add(
            segment=self.segments[kind],
            customers=[self.customers[slot]],
            actor=self.actor,
        )
        if self.model.row(kind, slot) is None:
            override = "add" if kind == "rule" else "none"
            self.model.rows[(kind, slot)] = Row(override=override)
            self.model.history += 1

    @rule(kind=kinds, slot=slots)
    def remove(self, kind, slot):
        if slot not in self.customers:
            return
        segment_members_remove(
            segment=self.segments[kind],
            customers=[self.customers[slot]],
            actor=self.actor,
        )
        if self.model.member(kind, slot):
            self.model.rows.pop((kind, slot), None)
            self.model.history += 1 + self.model.member(kind, slot)

    @rule(kind=kinds, slot=slots, status=st.sampled_from(["add", "block", "reset"]))
    def override(self, kind, slot, status):
        if slot not in self.customers:
            return
        segment_override_set(
            segment=self.segments[kind],
            customer=self.customers[slot],
            user_status=status,
            actor=self.actor,
        )
        getattr(self, f"_model_{status}")(kind, slot, test=False)

    @rule(kind=kinds, slot=slots)
    def test_user_add(self, kind, slot):
        if slot not in self.customers:
            return
        segment_test_user_add(
            segment=self.segments[kind], customer=self.customers[slot], actor=self.actor
        )
        self._model_add(kind, slot, test=True)

    @rule(kind=kinds, slot=slots)
    def test_user_remove(self, kind, slot):
        if slot not in self.customers:
            return
        segment_test_user_remove(
            segment=self.segments[kind], customer=self.customers[slot], actor=self.actor
        )
        row = self.model.rows.get((kind, slot))
        if row and row.test:
            del self.model.rows[(kind, slot)]
            self.model.history += 1 + self.model.member(kind, slot)

    @rule(slot=slots)
    def trigger_event(self, slot):
        if slot not in self.customers:
            return
        event_record(customer=self.customers[slot], name=TRIGGER)
        if self.model.row("event", slot) is None:
            self.model.rows[("event", slot)] = Row()
            self.model.history += 1

    @rule()
    def recompute(self):
        result = segment_recompute(segment=self.segments["rule"])
        # The rules were applied at every commit: nothing is left to do.
        assert (result.entered, result.left) == (0, 0)

    def _model_add(self, kind, slot, *, test):
        row = self.model.row(kind, slot)
        if row and row.override == "add" and (row.test or not test):
            return
        self.model.rows[(kind, slot)] = Row("add", test=test or bool(row and row.test))
        self.model.history += 1

    def _model_block(self, kind, slot, *, test):
        row = self.model.row(kind, slot)
        if row and row.override == "block":
            return
        self.model.rows[(kind, slot)] = Row("block")
        self.model.history += 1

    def _model_reset(self, kind, slot, *, test):
        row = self.model.row(kind, slot)
        if row is None or row.override == "none":
            return
        was = self.model.member(kind, slot)
        self.model.history += 1
        if row.override == "block":
            del self.model.rows[(kind, slot)]
        else:
            self.model.rows[(kind, slot)] = Row("none", test=row.test)
        self.model.rules_decide()
        self.model.history += kind == "rule" and was != self.model.member(kind, slot)

    # What must hold after every step

    @invariant()
    def rows_match_the_model(self):
        if not hasattr(self, "model"):
            return
        for kind, segment in self.segments.items():
            stored = {
                m.customer_id: (m.override, m.is_test)
                for m in Membership.objects.filter(segment=segment)
            }
            expected = {}
            for slot, customer in self.customers.items():
                row = self.model.row(kind, slot)
                if row is not None:
                    expected[customer.pk] = (row.override, row.test)
            assert stored == expected, kind

    @invariant()
    def one_row_per_segment_and_customer(self):
        doubles = (
            Membership.objects.values("segment", "customer")
            .annotate(n=Count("id"))
            .filter(n__gt=1)
        )
        assert not doubles.exists()

    @invariant()
    def one_history_row_per_effective_change(self):
        if hasattr(self, "model"):
            assert MembershipChange.objects.count() == self.model.history

    @invariant()
    def history_is_a_valid_chain(self):
        if not hasattr(self, "model"):
            return
        for segment in self.segments.values():
            for customer in self.customers.values():
                changes = list(
                    MembershipChange.objects.filter(
                        segment=segment, customer=customer
                    ).order_by("occurred_at", "id")
                )
                if not changes:
                    continue
                assert not changes[0].was_member
                assert all(b.was_member == a.is_member for a, b in pairwise(changes))
                member = Membership.objects.members().filter(
                    segment=segment, customer=customer
                )
                assert changes[-1].is_member == member.exists()


@pytest.mark.django_db
def test_membership_services__random_sequences__agree_with_the_model():
    run_state_machine_as_test(
        MembershipMachine,
        settings=settings(
            max_examples=MAX_EXAMPLES,
            stateful_step_count=STEPS,
            derandomize=True,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )

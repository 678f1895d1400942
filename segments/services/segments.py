from dataclasses import dataclass
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction

from segments.models import Condition, Customer, Segment, SegmentRule
from segments.rules import RuleSpec, condition_to_row, dependencies
from segments.selectors import segment_rules_parse

from .actors import Actor
from .compute import segment_compute_request
from .customers import customer_upsert
from .memberships import segment_members_add
from .rows import model_update, row_lock, row_write
from .unset import UNSET

UPDATABLE_FIELDS = (
    "name",
    "description",
    "trigger_event",
    "archived",
    "exit_after_days",
)


@transaction.atomic
def segment_create(
    *,
    name: str,
    type: str,
    actor: Actor,
    description: str = "",
    trigger_event: str = "",
    rules: dict[str, Any] | None = None,
    exit_after_days: int | None = None,
) -> Segment:
    segment = Segment(
        name=(name or "").strip(),
        type=type,
        description=description or "",
        trigger_event=(trigger_event or "").strip(),
        exit_after_days=exit_after_days,
        created_by=actor.user,
    )
    spec = _validate(segment, rules)
    segment.save()
    if spec:
        _save_rules(segment, spec)
    return segment


@dataclass(frozen=True)
class SegmentWithCustomers:
    segment: Segment
    customers: list[Customer]  # in the order given


@transaction.atomic
def segment_create_with_customers(
    *, customers: list[dict[str, Any]], actor: Actor, **fields: Any
) -> SegmentWithCustomers:
    """Create a segment with its people (Segmenter's create): each is created or
    updated by `customer_upsert(**row)` and added, all or nothing. Errors name the
    row at fault: {"customers[2].email": [...]}."""
    segment = segment_create(actor=actor, **fields)
    upserted: list[Customer] = []
    errors: dict[str, list[str]] = {}
    for index, row in enumerate(customers):
        try:
            upserted.append(customer_upsert(actor=actor, **row).customer)
        except ValidationError as exc:
            errors.update(_row_errors(f"customers[{index}]", exc))
    _raise_if(errors)
    segment_members_add(segment=segment, customers=upserted, actor=actor)
    return SegmentWithCustomers(segment=segment, customers=upserted)


def _row_errors(row: str, exc: ValidationError) -> dict[str, list[str]]:
    if not hasattr(exc, "error_dict"):
        return {row: exc.messages}
    return {
        row if field == NON_FIELD_ERRORS else f"{row}.{field}": messages
        for field, messages in exc.message_dict.items()
    }


@transaction.atomic
def segment_update(
    *, segment: Segment, actor: Actor, rules: Any = UNSET, **changes: Any
) -> Segment:
    """Change a segment's fields and, when `rules` is given, replace its condition
    tree (None removes it). A segment's type is fixed once it exists. The segment is
    read anew and locked, and only the fields changed are written (a worker may be
    updating the computation state); a segment deleted meanwhile is refused."""
    unknown = set(changes) - set(UPDATABLE_FIELDS)
    if unknown:
        field = sorted(unknown)[0]
        message = "A segment's type cannot change; create a new segment instead."
        raise ValidationError({field: message if field == "type" else "Unknown field."})
    segment = row_lock(segment)
    was_archived = segment.archived
    data = {k: v.strip() if isinstance(v, str) else v for k, v in changes.items()}
    changed = model_update(instance=segment, fields=UPDATABLE_FIELDS, data=data)
    if rules is UNSET:
        _raise_if(_field_errors(segment))
        row_write(segment, changed)
        if was_archived and not segment.archived:
            segment_compute_request(segment=segment)
        return segment
    spec = _validate(segment, rules)
    row_write(segment, changed)
    segment.rules.all().delete()
    if spec:
        _save_rules(segment, spec)
    return segment


@transaction.atomic
def segment_delete(*, segment: Segment, actor: Actor) -> None:
    """Delete a segment with its members and history. A campaign's audience segment
    cannot go: the campaign would lose its audience silently."""
    segment = row_lock(segment)
    campaigns = list(segment.campaigns.order_by("name").values_list("name", flat=True))
    if campaigns:
        names = ", ".join(f'"{name}"' for name in campaigns)
        raise ValidationError(
            f'Segment "{segment.name}" is the audience of {names}; '
            "remove it from those campaigns first, or archive it."
        )
    segment.delete()


def _validate(segment: Segment, rules: dict[str, Any] | None) -> RuleSpec | None:
    errors = _field_errors(segment)
    spec = None
    if segment.type == Segment.Type.STATIC and rules:
        errors["rules"] = ["Static segments have no rules: members are added to them."]
    elif segment.type == Segment.Type.RULE and not rules:
        errors["rules"] = ["A rule segment needs at least one condition."]
    elif rules:
        try:
            spec = segment_rules_parse(rules=rules, type=segment.type, segment=segment)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    _raise_if(errors)
    return spec


def _field_errors(segment: Segment) -> dict[str, list[str]]:
    """Field checks, and the table's constraints said against the field at fault."""
    errors: dict[str, list[str]] = {}
    try:
        segment.full_clean(validate_constraints=False)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    taken = Segment.objects.filter(name__iexact=segment.name).exclude(pk=segment.pk)
    if segment.name and taken.exists():
        errors["name"] = [f'A segment named "{segment.name}" already exists.']
    is_event = segment.type == Segment.Type.EVENT
    if is_event and not segment.trigger_event:
        errors["trigger_event"] = [
            "An event-triggered segment needs the event that makes customers enter."
        ]
    elif segment.trigger_event and not is_event:
        errors["trigger_event"] = [
            "Only event-triggered segments have a trigger event."
        ]
    if segment.exit_after_days is not None and not is_event:
        errors["exit_after_days"] = [
            "Only event-triggered segments let members leave after some days."
        ]
    return errors


def _raise_if(errors: dict[str, list[str]]) -> None:
    if errors:
        raise ValidationError(errors)


def _save_rules(segment: Segment, spec: RuleSpec) -> None:
    """Store the tree and what it reads, then have the members computed."""
    _save_rule_tree(segment, spec)
    found = dependencies(spec)
    segment.watched_fields = sorted(found.fields)
    segment.watched_events = sorted(found.events)
    segment.watched_segments = sorted(found.segments)
    segment.time_relative = found.time_relative
    segment.save(
        update_fields=[
            "watched_fields",
            "watched_events",
            "watched_segments",
            "time_relative",
        ]
    )
    segment_compute_request(segment=segment)


def _save_rule_tree(segment: Segment, spec: RuleSpec) -> None:
    conditions: list[Condition] = []

    def save(node: RuleSpec, parent: SegmentRule | None, position: int) -> None:
        rule = SegmentRule.objects.create(
            segment=segment, parent=parent, match=node.match, position=position
        )
        for i, condition in enumerate(node.conditions):
            field, operator, value = condition_to_row(condition)
            conditions.append(
                Condition(
                    rule=rule, field=field, operator=operator, value=value, position=i
                )
            )
        for i, child in enumerate(node.rules):
            save(child, rule, i)

    save(spec, None, 0)
    Condition.objects.bulk_create(conditions)

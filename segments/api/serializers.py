"""Serializers more than one view uses: ids, customers and their Segmenter aliases.
Each view keeps its own Input/Output serializers nested in it."""

from typing import Any

from rest_framework import serializers

from segments.selectors import IdType

from .fields import (
    MAX_ID_LENGTH,
    CustomerIdField,
    IdField,
    JsonInput,
    JsonObjectField,
    JsonValueField,
    bad_text,
)

MAX_IDS = 10_000


class IdTypeQuery(serializers.Serializer):
    id_type = serializers.ChoiceField(
        choices=IdType.choices,
        default=IdType.ID,
        help_text="How the ids name customers: external id (default), email or "
        "internal id.",
    )


class IdListField(serializers.ListField):
    """A list of ids. Plain ids (text, trimmed, not blank, not too long, no
    character the databases refuse) are taken in one pass: through the child
    field one by one, 10,000 of them took ten times as long (80 ms). Any other
    list goes through the child field, which converts numbers, trims, and names
    each id at fault by its index."""

    def run_child_validation(self, data: list[Any]) -> list[Any]:
        if all(
            type(value) is str
            and 0 < len(value) <= MAX_ID_LENGTH
            and value.strip() == value
            for value in data
        ) and not bad_text("".join(data)):
            return list(data)
        return super().run_child_validation(data)


class IdsInput(JsonInput):
    """Customers named by id, for the bulk member calls; `id_type` in the context."""

    ids = IdListField(
        child=IdField(),
        allow_empty=False,
        min_length=1,
        max_length=MAX_IDS,
        error_messages={
            "max_length": f"At most {MAX_IDS:,} ids per request; split the list."
        },
    )
    reference_id = serializers.CharField(
        required=False, allow_blank=True, max_length=255
    )
    metadata = JsonObjectField(required=False)
    description = serializers.CharField(required=False, allow_blank=True)

    def validate_ids(self, ids: list[str]) -> list[str]:
        if self.context.get("id_type") != IdType.INTERNAL_ID:
            return ids
        errors = {
            index: ["Expected an internal id: a whole number."]
            for index, value in enumerate(ids)
            if not (value.isascii() and value.isdigit())
        }
        if errors:
            raise serializers.ValidationError(errors)
        return ids


class AliasedSerializer(JsonInput):
    """Takes other products' names for fields: `aliases` maps alias -> field."""

    aliases: dict[str, str] = {}

    def to_internal_value(self, data):
        if isinstance(data, dict):
            data = dict(data)
            for alias, name in self.aliases.items():
                if alias in data and name in data:
                    raise serializers.ValidationError(
                        {alias: [f'Give "{name}" or "{alias}", not both.']}
                    )
                if alias in data:
                    data[name] = data.pop(alias)
        return super().to_internal_value(data)


class TagSerializer(JsonInput):
    tag = serializers.CharField()
    value = JsonValueField(allow_null=True)


class CustomerInput(AliasedSerializer):
    """A customer to create or update; Segmenter's names are accepted too.

    Validates to customer_upsert's arguments: fields left out are not passed, so
    they keep their value.
    """

    aliases = {
        "externalId": "id",
        "phoneNumber": "phone",
        "firstName": "first_name",
        "lastName": "last_name",
    }

    id = CustomerIdField(
        help_text='The customer\'s id in your systems (Segmenter: externalId); no "/".'
    )
    email = serializers.EmailField(required=False, allow_blank=True, allow_null=True)
    phone = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, max_length=32
    )
    first_name = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, max_length=150
    )
    last_name = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, max_length=150
    )
    attributes = JsonObjectField(
        required=False, help_text="Merged into the stored ones; null removes a key."
    )
    substitutionTags = TagSerializer(
        many=True,
        required=False,
        help_text='Segmenter\'s [{"tag", "value"}], stored as attributes.',
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = dict(attrs)
        attrs["external_id"] = attrs.pop("id")
        tags = attrs.pop("substitutionTags", None)
        if tags:
            attributes = attrs.get("attributes") or {}
            attrs["attributes"] = {**attributes, **{t["tag"]: t["value"] for t in tags}}
        return attrs


class CustomerRefOutput(serializers.Serializer):
    internal_id = serializers.IntegerField(source="pk")
    id = serializers.CharField(source="external_id")
    email = serializers.CharField()


class CustomerOutput(CustomerRefOutput):
    phone = serializers.CharField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    attributes = serializers.DictField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    last_seen_at = serializers.DateTimeField(allow_null=True)


class SegmentRefOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    type = serializers.CharField()

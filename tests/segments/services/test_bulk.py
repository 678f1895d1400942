from datetime import UTC, datetime

from campaigns.models import Enrollment
from segments.models import Customer, Membership
from segments.services.bulk import any_of, insert_from_select
from tests.factories import CampaignFactory, CustomerFactory


def test_insert_from_select__constants_columns_and_defaults__one_row_each(
    static_segment,
):
    customers = CustomerFactory.create_batch(3)
    joined = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)

    inserted = insert_from_select(
        Membership,
        Customer.objects.filter(pk__in=[c.pk for c in customers[:2]]),
        columns={"customer": "pk"},
        constants={
            "segment": static_segment,
            "source": "csv",
            "joined_at": joined,
            "metadata": {"file": "beta.csv", "row": [1, 2]},
        },
    )

    assert inserted == 2
    rows = Membership.objects.order_by("customer_id")
    assert [row.customer for row in rows] == customers[:2]
    row = rows[0]
    assert (row.segment, row.source, row.joined_at) == (static_segment, "csv", joined)
    assert row.metadata == {"file": "beta.csv", "row": [1, 2]}
    # Left out: the model's defaults, and now for auto_now
    assert (row.override, row.is_test, row.reference_id) == ("none", False, "")
    assert row.updated_at is not None


def test_insert_from_select__ignore_conflicts__existing_rows_win(static_segment):
    campaign = CampaignFactory()
    removed, fresh = CustomerFactory.create_batch(2)
    Enrollment.objects.create(
        campaign=campaign, customer=removed, status="removed", source="admin"
    )

    inserted = insert_from_select(
        Enrollment,
        Customer.objects.all(),
        columns={"customer": "pk"},
        constants={"campaign": campaign, "source": "segment"},
        ignore_conflicts=True,
    )

    assert inserted == 1
    assert dict(Enrollment.objects.values_list("customer", "status")) == {
        removed.pk: "removed",
        fresh.pk: "active",
    }


def test_insert_from_select__empty_selection__nothing_inserted(static_segment):
    inserted = insert_from_select(
        Membership,
        Customer.objects.filter(pk__in=[]),
        columns={"customer": "pk"},
        constants={"segment": static_segment, "source": "api"},
    )

    assert inserted == 0
    assert not Membership.objects.exists()


def test_any_of__ids_and_texts__same_rows_as_in(db):
    customers = [
        CustomerFactory(external_id=text)
        for text in (
            "a", 'b"c', "d,e", "{f}", "g'h", "NULL", "i\\j", ' k"\\', "é l", "m"
        )
    ]  # fmt: skip
    wanted = customers[1:9]
    ids = [c.pk for c in wanted]
    texts = [c.external_id for c in wanted]

    by_id = Customer.objects.filter(any_of("pk", ids))
    by_text = Customer.objects.filter(any_of("external_id", texts))
    as_fk = Membership.objects.filter(any_of("customer_id", ids))

    assert list(by_id.order_by("pk")) == wanted
    assert list(by_text.order_by("pk")) == wanted
    assert not as_fk.exists()
    assert not Customer.objects.filter(any_of("pk", [])).exists()

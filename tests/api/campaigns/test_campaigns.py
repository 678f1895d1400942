from datetime import timedelta

from django.utils import timezone

from campaigns.models import Campaign, Enrollment
from campaigns.services import campaign_create, enrollment_add
from segments.models import Customer, Event
from segments.services import Actor, segment_members_add
from tests.api.conftest import assert_error
from tests.factories import CampaignFactory, CustomerFactory, EventFactory

URL = "/api/v1/campaigns"


def test_campaign_create__active_with_segment__201_members_enrolled(
    api, static_segment, actor
):
    customer = CustomerFactory()
    segment_members_add(segment=static_segment, customers=[customer], actor=actor)

    response = api.post(
        URL, {"name": "Spring", "status": "active", "segment_ids": [static_segment.pk]}
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["segment_ids"], body["live"]) == ([static_segment.pk], True)
    assert Enrollment.objects.get().customer == customer


def test_campaign_create__unknown_segment__400_names_id(api, db):
    response = api.post(URL, {"name": "Spring", "segment_ids": [998, 999]})

    message = assert_error(response, 400, field="segment_ids")
    assert "998, 999" in message
    assert not Campaign.objects.exists()


def test_campaign_create__ends_before_start__400(api, db):
    now = timezone.now()
    response = api.post(
        URL,
        {
            "name": "Spring",
            "starts_at": now.isoformat(),
            "ends_at": (now - timedelta(days=1)).isoformat(),
        },
    )

    assert "end must come after the start" in assert_error(response, 400)


def test_campaign_list_detail__campaigns__answered(api, db):
    campaign = CampaignFactory(name="Spring")

    assert [c["name"] for c in api.get(URL).json()] == ["Spring"]
    assert api.get(f"{URL}/{campaign.pk}").json()["status"] == "active"
    assert_error(api.get(f"{URL}/999"), 404)


def test_campaign_update__pause__changed(api, db):
    campaign = CampaignFactory()

    response = api.patch(f"{URL}/{campaign.pk}", {"status": "paused"})

    assert response.json()["live"] is False
    campaign.refresh_from_db()
    assert campaign.status == "paused"


def test_campaign_update__bad_status__400(api, db):
    campaign = CampaignFactory()

    assert_error(
        api.patch(f"{URL}/{campaign.pk}", {"status": "x"}), 400, field="status"
    )


def test_campaign_delete__exists__204(api, db):
    campaign = CampaignFactory()

    assert api.delete(f"{URL}/{campaign.pk}").status_code == 204
    assert not Campaign.objects.exists()
    assert_error(api.delete(f"{URL}/{campaign.pk}"), 404)


def users(campaign, user_id=""):
    return f"{URL}/{campaign.pk}/users" + (f"/{user_id}" if user_id else "")


def test_campaign_users__enroll_check_remove__customerglu_flow(api, db):
    campaign = CampaignFactory()
    customer = CustomerFactory(external_id="u1")

    created = api.post(users(campaign), {"user_id": "u1"})
    again = api.post(users(campaign), {"user_id": "u1"})
    status = api.get(users(campaign, "u1")).json()
    removed = api.delete(users(campaign, "u1"))

    assert (created.status_code, again.status_code) == (201, 200)
    assert status["status"] == "active" and status["source"] == "api"
    assert status["campaign_id"] == campaign.pk and status["user_id"] == "u1"
    assert removed.status_code == 200
    assert removed.json()["status"] == "removed" and removed.json()["removed_at"]
    assert not api.get(f"/api/v1/customers/{customer.external_id}/campaigns").json()


def test_campaign_users__not_enrolled__status_not_enrolled(api, customer):
    campaign = CampaignFactory()

    body = api.get(users(campaign, customer.external_id)).json()

    assert (body["status"], body["enrolled_at"]) == ("not_enrolled", None)


def test_campaign_users__campaign_not_active__404_says_so(api, customer):
    campaign = CampaignFactory(name="Old", status=Campaign.Status.PAUSED)

    response = api.post(users(campaign), {"user_id": customer.external_id})

    assert "is not active" in assert_error(response, 404)
    assert_error(api.get(users(campaign, customer.external_id)), 404)
    assert not Enrollment.objects.exists()


def test_campaign_users__unknown_campaign_or_user__404(api, customer):
    campaign = CampaignFactory()

    assert_error(api.post(f"{URL}/999/users", {"user_id": customer.external_id}), 404)
    assert "ghost" in assert_error(api.post(users(campaign), {"user_id": "ghost"}), 404)


def test_campaign_users__no_user_id__400(api, db):
    campaign = CampaignFactory()

    assert_error(api.post(users(campaign), {}), 400, field="user_id")


def test_customer_detail__segments_and_campaigns__listed(api, static_segment, actor):
    customer = CustomerFactory(external_id="u1", email="u1@example.com")
    campaign_create(
        name="Spring", status="active", segments=[static_segment], actor=actor
    )
    segment_members_add(segment=static_segment, customers=[customer], actor=actor)

    by_id = api.get("/api/v1/customers/u1").json()
    by_email = api.get("/api/v1/customers/u1@example.com?id_type=email").json()

    assert by_id == by_email
    assert [s["name"] for s in by_id["segments"]] == ["VIP list"]
    assert [c["name"] for c in by_id["campaigns"]] == ["Spring"]
    assert by_id["internal_id"] == customer.pk


def test_customer_detail__unknown__404(api, db):
    assert "ghost" in assert_error(api.get("/api/v1/customers/ghost"), 404)


def test_customer_erase__customer_with_events__everything_gone(api, db):
    customer = CustomerFactory(external_id="u1")
    EventFactory.create_batch(2, customer=customer)

    response = api.delete("/api/v1/customers/u1")

    assert response.status_code == 200
    assert response.json()["deleted"]["Event"] == 2
    assert not Customer.objects.exists() and not Event.objects.exists()


def test_customer_erase__read_key__403(reader, customer):
    assert_error(reader.delete(f"/api/v1/customers/{customer.external_id}"), 403)


def test_customer_campaigns__enrolled_in_live_one__listed(api, customer):
    live = CampaignFactory(name="Live")
    CampaignFactory(name="Paused", status="paused")
    enrollment_add(campaign=live, customer=customer, actor=Actor.system("t"))

    body = api.get(f"/api/v1/customers/{customer.external_id}/campaigns").json()

    assert [c["name"] for c in body] == ["Live"]

from campaigns.services import campaign_create
from segments.models import Customer, Membership, Segment
from segments.services import Actor
from tests.api.conftest import assert_error
from tests.factories import CustomerFactory

URL = "/api/v1/segments"
RULES = {
    "match": "all",
    "conditions": [
        {"field": "attributes.channel", "operator": "equals", "value": "Facebook"}
    ],
    "rules": [],
}


def test_segments_list__segments__names_types_and_member_counts(
    api, static_segment, rule_segment
):
    response = api.get(URL)

    assert response.status_code == 200
    body = {s["name"]: (s["type"], s["member_count"]) for s in response.json()}
    assert body == {"VIP list": ("static", 0), "Facebook users": ("rule", 0)}


def test_segment_create__rule_segment__201_with_rules_read_back(api):
    response = api.post(
        URL, {"name": "Facebook", "type": "rule", "rules": RULES, "description": "d"}
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["rules"] == RULES
    assert Segment.objects.get(pk=body["id"]).description == "d"


def test_segment_create__with_segmenter_persons__customers_created_and_added(api):
    CustomerFactory(external_id="p1", email="p1@example.com")

    response = api.post(
        URL,
        {
            "name": "Imported",
            "customers": [
                {"externalId": "p1", "firstName": "Ann"},
                {
                    "id": "p2",
                    "email": "p2@example.com",
                    "phoneNumber": "+331",
                    "lastName": "Lee",
                    "substitutionTags": [{"tag": "city", "value": "Paris"}],
                },
            ],
        },
    )

    assert response.status_code == 201, response.json()
    listed = response.json()["customers"]
    assert [(c["id"], c["email"]) for c in listed] == [
        ("p1", "p1@example.com"),
        ("p2", "p2@example.com"),
    ]
    p2 = Customer.objects.get(external_id="p2")
    assert (p2.phone, p2.last_name, p2.attributes) == ("+331", "Lee", {"city": "Paris"})
    assert listed[1]["internal_id"] == p2.pk
    assert Membership.objects.filter(segment_id=response.json()["id"]).count() == 2
    assert response.json()["member_count"] == 2


def test_segment_create__bad_customer_row__400_names_row_nothing_saved(api):
    response = api.post(
        URL,
        {"name": "Imported", "customers": [{"id": "ok"}, {"id": "x", "email": "nope"}]},
    )

    message = assert_error(response, 400, field="customers[1].email")
    assert message.startswith("customers[1].email:")
    assert not Segment.objects.exists() and not Customer.objects.exists()


def test_segment_create__alias_and_field_both_given__400(api):
    response = api.post(
        URL, {"name": "X", "customers": [{"id": "a", "externalId": "b"}]}
    )

    assert_error(response, 400, field="customers[0].externalId")


def test_segment_create__rule_segment_without_rules__400_on_rules(api):
    assert_error(api.post(URL, {"name": "R", "type": "rule"}), 400, field="rules")


def test_segment_create__bad_type__400_on_type(api):
    assert_error(api.post(URL, {"name": "R", "type": "smart"}), 400, field="type")


def test_segment_detail__exists__fields_and_rules(api, rule_segment):
    response = api.get(f"{URL}/{rule_segment.pk}")

    assert response.status_code == 200
    assert response.json()["rules"]["conditions"][0]["value"] == "Facebook"


def test_segment_detail__unknown_id__404_naming_it(api, db):
    assert "No segment with id 999" in assert_error(api.get(f"{URL}/999"), 404)


def test_segment_update__name_and_archived__changed(api, static_segment):
    response = api.patch(
        f"{URL}/{static_segment.pk}", {"name": "Top", "archived": True}
    )

    assert response.status_code == 200, response.json()
    static_segment.refresh_from_db()
    assert (static_segment.name, static_segment.archived) == ("Top", True)


def test_segment_update__type_change__400_on_type(api, static_segment):
    response = api.patch(f"{URL}/{static_segment.pk}", {"type": "rule"})

    assert "type cannot change" in assert_error(response, 400, field="type")


def test_segment_update__unknown_id__404(api, db):
    assert_error(api.patch(f"{URL}/999", {"name": "x"}), 404)


def test_segment_delete__free_segment__204_and_gone(api, static_segment):
    response = api.delete(f"{URL}/{static_segment.pk}")

    assert response.status_code == 204
    assert not Segment.objects.filter(pk=static_segment.pk).exists()


def test_segment_delete__campaign_audience__400_naming_campaign(
    api, static_segment, admin_user
):
    campaign_create(
        name="Spring", segments=[static_segment], actor=Actor.admin(admin_user)
    )

    response = api.delete(f"{URL}/{static_segment.pk}")

    assert '"Spring"' in assert_error(response, 400)
    assert Segment.objects.filter(pk=static_segment.pk).exists()


def test_segment_delete__unknown_id__404(api, db):
    assert_error(api.delete(f"{URL}/999"), 404)

from segments.models import Customer, Event
from tests.api.conftest import assert_error
from tests.factories import CustomerFactory, EventFactory


def test_customer_upsert__new__201_created(api):
    response = api.post(
        "/api/v1/customers",
        {"id": "u1", "email": "U1@Example.com", "attributes": {"plan": "pro"}},
    )

    assert response.status_code == 201, response.json()
    customer = Customer.objects.get(external_id="u1")
    assert response.json()["internal_id"] == customer.pk
    assert (customer.email, customer.attributes) == ("u1@example.com", {"plan": "pro"})


def test_customer_upsert__existing__200_attributes_merged_null_removes(api):
    CustomerFactory(external_id="u1", phone="1", attributes={"a": 1, "b": 2})

    response = api.post(
        "/api/v1/customers", {"id": "u1", "attributes": {"b": None, "c": 3}}
    )

    assert response.status_code == 200
    customer = Customer.objects.get(external_id="u1")
    assert customer.attributes == {"a": 1, "c": 3}
    assert customer.phone == "1"  # left out: kept


def test_customer_upsert__email_taken__400_on_email(api):
    CustomerFactory(email="taken@example.com")

    response = api.post(
        "/api/v1/customers", {"id": "new", "email": "taken@example.com"}
    )

    assert_error(response, 400, field="email")
    assert not Customer.objects.filter(external_id="new").exists()


def test_customer_upsert__no_id__400_on_id(api):
    assert_error(api.post("/api/v1/customers", {"email": "a@b.co"}), 400, field="id")


def test_event_record__new__201_and_last_seen(api):
    customer = CustomerFactory(external_id="u1")

    response = api.post(
        "/api/v1/events",
        {
            "user_id": "u1",
            "name": "purchase",
            "properties": {"amount": 3},
            "timestamp": "2025-05-01T10:00:00Z",
            "message_id": "m-1",
        },
    )

    assert response.status_code == 201, response.json()
    event = Event.objects.get()
    assert (event.customer, event.name, event.properties) == (
        customer,
        "purchase",
        {"amount": 3},
    )
    customer.refresh_from_db()
    assert customer.last_seen_at == event.timestamp


def test_event_record__same_message_id__200_first_event(api):
    customer = CustomerFactory(external_id="u1")
    first = EventFactory(customer=customer, message_id="m-1")

    response = api.post(
        "/api/v1/events", {"id": "u1", "event": "x", "message_id": "m-1"}
    )

    assert response.status_code == 200
    assert response.json()["id"] == first.pk
    assert Event.objects.count() == 1


def test_event_record__unknown_customer__404(api, db):
    response = api.post("/api/v1/events", {"user_id": "ghost", "name": "x"})

    assert "ghost" in assert_error(response, 404)


def test_event_record__bad_properties__400(api, customer):
    response = api.post(
        "/api/v1/events",
        {"user_id": customer.external_id, "name": "x", "properties": [1]},
    )

    assert_error(response, 400, field="properties")


def test_event_record__read_key__403(reader, customer):
    response = reader.post("/api/v1/events", {"user_id": "x", "name": "y"})

    assert_error(response, 403)

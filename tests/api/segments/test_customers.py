from segments.models import Customer
from tests.api.conftest import assert_error
from tests.factories import CustomerFactory


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

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from segments.models import IdempotentRequest, Segment
from tests.markers import requires_postgres

from .conftest import assert_error, client_for, new_key

URL = "/api/v1/segments"


def post(client, body, key="key-1", url=URL):
    return client.post(url, body, HTTP_IDEMPOTENCY_KEY=key)


def test_idempotency__same_request_twice__first_answer_replayed_once_executed(api):
    first = post(api, {"name": "VIP"})

    again = post(api, {"name": "VIP"})

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Segment.objects.count() == 1


def test_idempotency__error_answer__replayed_too(api):
    first = post(api, {"name": ""})

    again = post(api, {"name": ""})

    assert first.status_code == again.status_code == 400
    assert again.json() == first.json()


def test_idempotency__same_key_other_body__422(api):
    post(api, {"name": "VIP"})

    response = post(api, {"name": "Other"})

    assert "same method, path and body" in assert_error(response, 422)
    assert list(Segment.objects.values_list("name", flat=True)) == ["VIP"]


def test_idempotency__same_key_other_path__422(api, static_segment):
    post(api, {"name": "VIP"})

    response = api.patch(
        f"{URL}/{static_segment.pk}", {"name": "VIP"}, HTTP_IDEMPOTENCY_KEY="key-1"
    )

    assert_error(response, 422)


def test_idempotency__keys_are_per_api_key__other_key_executes(api, db):
    other = client_for(new_key("write", "read", name="Other").key)
    post(api, {"name": "VIP"})

    response = post(other, {"name": "VIP"})

    assert_error(response, 400, field="name")  # ran, and found the name taken


def test_idempotency__after_24_hours__request_runs_again(api):
    post(api, {"name": "VIP"})
    IdempotentRequest.objects.update(created_at=timezone.now() - timedelta(hours=25))
    Segment.objects.all().delete()

    response = post(api, {"name": "VIP"})

    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response
    assert Segment.objects.count() == 1


def test_idempotency__delete_replayed__204_again(api, static_segment):
    url = f"{URL}/{static_segment.pk}"
    first = api.delete(url, HTTP_IDEMPOTENCY_KEY="d1")

    again = api.delete(url, HTTP_IDEMPOTENCY_KEY="d1")

    assert first.status_code == again.status_code == 204


def test_idempotency__key_too_long__400(api):
    response = post(api, {"name": "VIP"}, key="k" * 256)

    assert_error(response, 400, field="Idempotency-Key")
    assert not Segment.objects.exists()


def test_idempotency__get__header_ignored(api):
    api.get(URL, HTTP_IDEMPOTENCY_KEY="g1")

    assert not IdempotentRequest.objects.exists()


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_idempotency__concurrent_duplicates__one_executes_both_same_answer(api):
    # Given two identical requests sent at the same instant
    barrier, answers = threading.Barrier(2), []

    def send():
        barrier.wait()
        answers.append(post(api, {"name": "VIP"}))
        connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Then one created the segment and the other replayed its answer
    assert sorted(a.status_code for a in answers) == [201, 201]
    assert answers[0].json() == answers[1].json()
    assert Segment.objects.count() == 1

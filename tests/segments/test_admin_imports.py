import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from segments.models import ImportJob, Membership, MembershipChange
from tests.admin_support import messages

from ..factories import CustomerFactory
from .imports.support import csv_bytes, upload


@pytest.fixture
def people(db):
    return [CustomerFactory(external_id=f"u{i}") for i in range(3)]


def import_url(segment):
    return reverse("admin:segments_segment_import_members", args=[segment.pk])


def preview(client, segment, content, capture, **fields):
    with capture(execute=True):
        response = client.post(import_url(segment), {"file": upload(content), **fields})
    assert response.status_code == 302, response.context["form"].errors
    return ImportJob.objects.get(dry_run=True)


def imported(client, segment, content, capture):
    """Previewed, then confirmed."""
    job = preview(client, segment, content, capture)
    with capture(execute=True):
        client.post(reverse("admin:segments_segment_import_confirm", args=[job.pk]))


def test_admin_import__preview__counts_and_rows_not_added_nothing_written(
    admin_client, static_segment, people, django_capture_on_commit_callbacks
):
    job = preview(
        admin_client,
        static_segment,
        csv_bytes("id", "u0", "ghost", "u0"),
        django_capture_on_commit_callbacks,
    )
    page = admin_client.get(reverse("admin:segments_segment_import_job", args=[job.pk]))
    text = page.content.decode()
    assert page.context["counts"][:3] == [
        ("added", 1),
        ("already members", 0),
        ("unknown ids", 1),
    ]
    assert (
        "Confirm import" in text
        and "ghost" in text
        and "Duplicated in the file" in text
    )
    assert not Membership.objects.exists()


def test_admin_import__confirm__applies_what_was_previewed(
    admin_client, static_segment, people, django_capture_on_commit_callbacks
):
    job = preview(
        admin_client,
        static_segment,
        csv_bytes("id", "u0", "u1", "x"),
        django_capture_on_commit_callbacks,
    )
    confirm = reverse("admin:segments_segment_import_confirm", args=[job.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(confirm)
    done = ImportJob.objects.get(dry_run=False)
    assert response.url == reverse("admin:segments_segment_import_job", args=[done.pk])
    assert (done.status, done.added, done.unknown) == ("done", 2, 1)
    assert (job.added, job.unknown) == (done.added, done.unknown)
    change = MembershipChange.objects.filter(segment=static_segment).first()
    assert (
        change.actor_label == "csv: members.csv"
        and change.actor_user.username == "alice"
    )


def test_admin_import__bad_file__form_error_no_job(admin_client, static_segment):
    response = admin_client.post(
        import_url(static_segment), {"file": upload(csv_bytes("name", "x"))}
    )
    assert 'found: "name"' in response.context["form"].errors["file"][0]
    assert not ImportJob.objects.exists()


def test_admin_import__cancel_queued__cancelled(admin_client, static_segment, people):
    response = admin_client.post(
        import_url(static_segment), {"file": upload(csv_bytes("id", "u0"))}
    )
    job = ImportJob.objects.get()  # queued: its commit never came in this test
    cancel = reverse("admin:segments_segment_import_cancel", args=[job.pk])
    response = admin_client.post(cancel, follow=True)
    assert "The import was cancelled." in messages(response)
    job.refresh_from_db()
    assert job.status == "cancelled"
    status = admin_client.get(
        reverse("admin:segments_segment_import_status", args=[job.pk])
    ).json()
    assert (status["status"], status["finished"]) == ("cancelled", True)


def test_admin_export__xlsx__members_workbook(
    admin_client, static_segment, people, django_capture_on_commit_callbacks
):
    imported(
        admin_client,
        static_segment,
        csv_bytes("id", "u2"),
        django_capture_on_commit_callbacks,
    )
    url = reverse("admin:segments_segment_export_members", args=[static_segment.pk])
    response = admin_client.get(url + "?format=xlsx")
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    assert [row[0].value for row in sheet.iter_rows()] == ["id", "u2"]


def test_admin_import__staff_without_change_permission__403(
    client, static_segment, django_user_model
):
    user = django_user_model.objects.create_user("bob", password="x", is_staff=True)
    client.force_login(user)
    assert client.get(import_url(static_segment)).status_code == 403


def test_admin_export__csv_with_attribute__streamed_rows(
    admin_client, static_segment, people, django_capture_on_commit_callbacks
):
    page = admin_client.get(import_url(static_segment))
    assert page.status_code == 200 and "Export members" in page.content.decode()
    imported(
        admin_client,
        static_segment,
        csv_bytes("id", "u1"),
        django_capture_on_commit_callbacks,
    )
    url = reverse("admin:segments_segment_export_members", args=[static_segment.pk])
    response = admin_client.get(url, {"format": "csv", "attributes": "plan, nope"})
    lines = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()
    assert lines[0].endswith(",joined_at,plan,nope")
    assert lines[1].startswith("u1,") and lines[1].endswith(",free,")

"""The same file through the admin, the API and the command: the same rows."""

import pytest
from django.core.management import call_command
from django.urls import reverse

from segments.models import ImportJob, Membership, MembershipChange
from segments.services import Actor, segment_create, segment_override_set

from ...api.conftest import client_for, new_key
from ...factories import CustomerFactory
from .support import csv_bytes, upload

FILE = csv_bytes("id,plan", "u0,pro", "u1,", "u2,free", "ghost,x", "u0,pro", ",", "u3")


@pytest.fixture
def segments(db):
    actor = Actor.system("tests")
    people = [CustomerFactory(external_id=f"u{i}") for i in range(4)]
    made = [segment_create(name=n, type="static", actor=actor) for n in "ABC"]
    for segment in made:  # u2 is blocked everywhere
        segment_override_set(
            segment=segment, customer=people[2], user_status="block", actor=actor
        )
    return made


def by_admin(client, segment, capture):
    url = reverse("admin:segments_segment_import_members", args=[segment.pk])
    with capture(execute=True):
        client.post(url, {"file": upload(FILE, "f.csv")})
    preview = ImportJob.objects.get(segment=segment, dry_run=True)
    with capture(execute=True):
        client.post(reverse("admin:segments_segment_import_confirm", args=[preview.pk]))


def by_api(segment, capture):
    api = client_for(new_key("write", "read").key)
    with capture(execute=True):
        response = api.post(
            f"/api/v1/segments/{segment.pk}/imports",
            {"file": upload(FILE, "f.csv")},
            format="multipart",
        )
    assert response.status_code == 202


def by_command(segment, tmp_path):
    path = tmp_path / "f.csv"
    path.write_bytes(FILE)
    call_command("import_members", segment.name, str(path))


def outcome(segment):
    job = ImportJob.objects.get(segment=segment, dry_run=False)
    members = Membership.objects.filter(segment=segment).order_by(
        "customer__external_id"
    )
    history = MembershipChange.objects.filter(segment=segment, actor_type="csv")
    return (
        job.counts,
        list(job.issues.values_list("line", "kind", "value", "reason")),
        list(members.values_list("customer__external_id", "source", "override")),
        sorted(history.values_list("customer__external_id", "action", "actor_label")),
    )


def test_import__admin_api_command__same_rows_history_and_counts(
    admin_client, segments, tmp_path, django_capture_on_commit_callbacks
):
    admin_segment, api_segment, command_segment = segments
    by_admin(admin_client, admin_segment, django_capture_on_commit_callbacks)
    by_api(api_segment, django_capture_on_commit_callbacks)
    by_command(command_segment, tmp_path)

    admin, api, command = (outcome(s) for s in segments)
    assert admin == api == command
    counts, issues, members, history = admin
    assert counts == {
        "added": 2,
        "already_members": 0,
        "unknown": 1,
        "blocked": 1,
        "duplicates": 1,
        "invalid": 1,
    }
    assert [(line, kind) for line, kind, *_ in issues] == [
        (4, "blocked"),
        (5, "unknown"),
        (6, "duplicate"),
        (8, "invalid"),  # line 7 is blank: skipped
    ]
    assert members == [
        ("u0", "csv", "none"),
        ("u1", "csv", "none"),
        ("u2", "admin", "block"),
    ]
    assert history == [(m, "entered", "csv: f.csv") for m in ("u0", "u1")]

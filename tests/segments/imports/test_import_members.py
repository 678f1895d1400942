import pytest
from django.core.exceptions import ValidationError

from campaigns.models import Enrollment
from segments.models import ImportJob, Membership, MembershipChange
from segments.services import segment_override_set
from segments.services.imports import (
    apply,
    import_job_cancel,
    import_job_create,
    import_job_run,
    jobs,
)

from ...factories import CampaignFactory, CustomerFactory
from .support import csv_bytes, issues, run, upload, xlsx_bytes


@pytest.fixture
def people(db):
    return [CustomerFactory(external_id=f"u{i}", email=f"u{i}@x.io") for i in range(5)]


def member_ids(segment) -> set[str]:
    return set(
        Membership.objects.members()
        .filter(segment=segment)
        .values_list("customer__external_id", flat=True)
    )


def test_import__every_kind_of_row__each_counted_once(static_segment, people, actor):
    # Given u1 already a member and u2 blocked
    run(static_segment, csv_bytes("id", "u1"))
    segment_override_set(
        segment=static_segment, customer=people[2], user_status="block", actor=actor
    )
    content = csv_bytes(
        "id,name", "u0,a", "u1,b", "u2,c", "nobody,d", "u0,e", ",f", "u3"
    )
    # When
    job = run(static_segment, content)
    # Then
    assert job.status == ImportJob.Status.DONE, job.error
    assert job.counts == {
        "added": 1,
        "already_members": 1,
        "unknown": 1,
        "blocked": 1,
        "duplicates": 1,
        "invalid": 2,
    }
    assert job.rows_total == job.rows_read == 8 - 1
    assert issues(job) == [
        (4, "blocked", "u2"),
        (5, "unknown", "nobody"),
        (6, "duplicate", "u0"),
        (7, "invalid", ""),
        (8, "invalid", "u3"),
    ]
    assert member_ids(static_segment) == {"u0", "u1"}


def test_import__added_members__history_and_enrollments_in_bulk(static_segment, people):
    campaign = CampaignFactory()
    campaign.segments.add(static_segment)
    job = run(static_segment, csv_bytes("user_id", "u0", "u3"), name="crm.csv")
    changes = MembershipChange.objects.filter(segment=static_segment)
    assert job.added == 2
    assert (
        sorted(changes.values_list("action", "actor_label", "reference_id"))
        == [("entered", "csv: crm.csv", f"import:{job.pk}")] * 2
    )
    assert set(
        Enrollment.objects.filter(campaign=campaign).values_list(
            "customer__external_id", flat=True
        )
    ) == {"u0", "u3"}
    assert set(
        Membership.objects.filter(segment=static_segment).values_list(
            "source", flat=True
        )
    ) == {"csv"}


def test_import__rule_segment__members_pinned_with_add(rule_segment, people):
    run(rule_segment, csv_bytes("id", "u0"))
    assert Membership.objects.get(segment=rule_segment).override == "add"


def test_import__dry_run__counts_and_writes_no_member(static_segment, people):
    job = run(static_segment, csv_bytes("id", "u0", "u1", "zz"), dry_run=True)
    assert (job.added, job.unknown, job.rows_applied) == (2, 1, 0)
    assert not Membership.objects.filter(segment=static_segment).exists()
    assert not MembershipChange.objects.exists()


def test_import__by_email_header__finds_customers_case_insensitively(
    static_segment, people
):
    job = run(static_segment, csv_bytes("E-Mail", "U1@X.IO", "u2@x.io"))
    assert (job.id_type, job.added) == ("email", 2)
    assert member_ids(static_segment) == {"u1", "u2"}


def test_import__internal_ids__numbers_checked(static_segment, people):
    content = csv_bytes("internal_id", str(people[0].pk), "abc", f"00{people[1].pk}")
    job = run(static_segment, content)
    assert (job.added, job.invalid) == (2, 1)
    assert "not an internal id" in job.issues.get().reason


def test_import__create_missing__creates_and_updates_customers(static_segment, people):
    content = csv_bytes(
        "external_id,email,first_name,Plan", "u0,,Zed,pro", "new1,new1@x.io,Ann,free"
    )
    job = run(static_segment, content, create_missing=True)
    assert (job.added, job.created, job.unknown) == (2, 1, 0)
    new = Membership.objects.get(segment=static_segment, customer__external_id="new1")
    assert (new.customer.email, new.customer.attributes) == (
        "new1@x.io",
        {"plan": "free"},
    )
    people[0].refresh_from_db()
    assert (people[0].first_name, people[0].attributes["plan"]) == ("Zed", "pro")


def test_import__create_missing_refused_row__invalid_with_reason(
    static_segment, people
):
    content = csv_bytes("id,email", "new1,not-an-email", "new2,")
    job = run(static_segment, content, create_missing=True)
    assert (job.added, job.invalid, job.created) == (1, 1, 1)
    (issue,) = job.issues.all()
    assert (issue.line, issue.kind) == (2, "invalid")
    assert "email" in issue.reason


def test_import__create_missing_by_email__refused(static_segment, people):
    with pytest.raises(ValidationError) as refused:
        run(static_segment, csv_bytes("email", "a@x.io"), create_missing=True)
    assert "external ids" in str(refused.value)
    assert not ImportJob.objects.exists()


def test_import__archived_segment__refused(static_segment, people, actor):
    static_segment.archived = True
    static_segment.save()
    with pytest.raises(ValidationError, match="archived"):
        run(static_segment, csv_bytes("id", "u0"))


def test_import__xlsx__read_like_csv(static_segment, people):
    job = run(
        static_segment, xlsx_bytes(("ID", "n"), ("u0", 1), ("u4", 2.0)), name="m.xlsx"
    )
    assert (job.status, job.added) == ("done", 2)


def test_import__ragged_rows__invalid_with_their_lines(static_segment, people):
    job = run(
        static_segment, csv_bytes("id,email", "u0,a@x.io", "u1", "u2,b,c", "u3,,,")
    )
    assert job.added == 2
    assert [(line, kind) for line, kind, _ in issues(job)] == [
        (3, "invalid"),
        (4, "invalid"),
    ]
    assert "2" in job.issues.first().reason


def test_import__cancelled_before_start__applies_nothing(static_segment, people, actor):
    job = import_job_create(
        segment=static_segment,
        file=upload(csv_bytes("id", "u0")),
        filename="m.csv",
        actor=actor,
        queue=False,
    )
    import_job_cancel(job=job, actor=actor)
    assert import_job_run(job_id=job.pk) is None
    job.refresh_from_db()
    assert job.status == "cancelled" and "alice" in job.error
    assert not Membership.objects.exists()
    with pytest.raises(ValidationError, match="already cancelled"):
        import_job_cancel(job=job, actor=actor)


def test_import__cancelled_while_reading__nothing_applied(
    static_segment, people, actor, monkeypatch
):
    # Given chunks of two rows, and a cancel arriving after the first chunk
    monkeypatch.setattr(jobs, "CHUNK_ROWS", 2)
    job = import_job_create(
        segment=static_segment,
        file=upload(csv_bytes("id", "u0", "u1", "u2", "u3", "u4")),
        filename="m.csv",
        actor=actor,
        queue=False,
    )
    load = jobs.staging_load

    def load_then_cancel(rows):
        load(rows)
        import_job_cancel(job=job, actor=actor)

    monkeypatch.setattr(jobs, "staging_load", load_then_cancel)
    # When it runs
    import_job_run(job_id=job.pk)
    # Then it stopped after the first chunk, with nothing applied
    job.refresh_from_db()
    assert (job.status, job.rows_read, job.added) == ("cancelled", 2, 0)
    assert not Membership.objects.exists()


def test_import__crash_while_applying__nothing_half_applied(
    static_segment, people, monkeypatch
):
    # Given the history write fails after the memberships were inserted
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(apply, "record_changes", broken)
    # When a file is imported
    job = run(static_segment, csv_bytes("id", "u0", "u1"))
    # Then the job failed and no membership stayed
    assert job.status == "failed" and "nothing was applied" in job.error
    assert not Membership.objects.exists()

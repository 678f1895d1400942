import io

import pytest
from openpyxl import load_workbook

from segments.models import ImportJob, Membership
from segments.services import Actor, segment_create, segment_test_user_add
from segments.services.imports import import_job_run

from ...factories import CustomerFactory
from ...segments.imports.support import csv_bytes, upload, xlsx_bytes
from ..conftest import assert_error


@pytest.fixture
def people(db):
    return [CustomerFactory(external_id=f"u{i}", email=f"u{i}@x.io") for i in range(3)]


def post_file(api, segment, content: bytes, name="m.csv", capture=None, **fields):
    with capture(execute=True):
        response = api.post(
            f"/api/v1/segments/{segment.pk}/imports",
            {"file": upload(content, name), **fields},
            format="multipart",
        )
    return response


def test_import_api__csv__202_then_done_with_counts(
    api, static_segment, people, django_capture_on_commit_callbacks
):
    response = post_file(
        api,
        static_segment,
        csv_bytes("id", "u0", "u1", "ghost", "u0"),
        capture=django_capture_on_commit_callbacks,
    )
    assert response.status_code == 202, response.json()
    assert response.json()["status"] == "queued"
    job = api.get(f"/api/v1/imports/{response.json()['id']}").json()
    assert job["status"] == "done"
    assert (job["added"], job["unknown"], job["duplicates"], job["rows_total"]) == (
        2,
        1,
        1,
        4,
    )
    assert [(i["line"], i["kind"], i["value"]) for i in job["issues"]] == [
        (4, "unknown", "ghost"),
        (5, "duplicate", "u0"),
    ]
    assert Membership.objects.filter(segment=static_segment).count() == 2


def test_import_api__dry_run_xlsx__counts_without_members(
    api, static_segment, people, django_capture_on_commit_callbacks
):
    response = post_file(
        api,
        static_segment,
        xlsx_bytes(("email",), ("U1@x.io",)),
        name="m.xlsx",
        capture=django_capture_on_commit_callbacks,
        dry_run="true",
    )
    job = api.get(f"/api/v1/imports/{response.json()['id']}").json()
    assert (job["dry_run"], job["added"], job["id_type"]) == (True, 1, "email")
    assert not Membership.objects.exists()


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", "empty"),
        (csv_bytes("id"), "header but no rows"),
        (csv_bytes("who", "u1"), 'found: "who"'),
        (bytes(range(256)) * 4, "binary"),
    ],
)
def test_import_api__bad_file__400_naming_the_problem(
    api, static_segment, content, words, django_capture_on_commit_callbacks
):
    response = post_file(
        api, static_segment, content, capture=django_capture_on_commit_callbacks
    )
    assert words in assert_error(response, 400, field="file")
    assert not ImportJob.objects.exists()


def test_import_api__no_file__400_on_file(api, static_segment):
    response = api.post(
        f"/api/v1/segments/{static_segment.pk}/imports", {}, format="multipart"
    )
    assert_error(response, 400, field="file")


def test_import_api__oversize__413_before_reading(api, static_segment, settings):
    settings.IMPORT_MAX_FILE_BYTES = 1000
    response = api.post(
        f"/api/v1/segments/{static_segment.pk}/imports",
        {"file": upload(b"id\n" + b"u1\n" * 40_000)},
        format="multipart",
    )
    assert "Files up to 1,000 bytes are imported" in assert_error(response, 413)


def test_import_api__file_over_the_json_body_limit__imported(
    api, static_segment, people, settings
):
    # Given a body larger than the API takes as JSON, and an odd file name
    settings.API_MAX_BODY_BYTES = 1000
    content = csv_bytes("id", *["u1"] * 500)
    response = api.post(
        f"/api/v1/segments/{static_segment.pk}/imports",
        {"file": upload(content, "a\x00b\nc.csv")},
        format="multipart",
        headers={"Idempotency-Key": "k1"},
    )
    # Then it is taken, its name cleaned up
    assert response.status_code == 202, response.json()
    job = import_job_run(job_id=response.json()["id"])
    assert (job.filename, job.added, job.duplicates) == ("abc.csv", 1, 499)


def test_import_api__read_key__403(reader, static_segment):
    response = reader.post(
        f"/api/v1/segments/{static_segment.pk}/imports",
        {"file": upload(csv_bytes("id", "u1"))},
        format="multipart",
    )
    assert_error(response, 403)


def test_import_api__unknown_job__404(api):
    assert "No import with id 99" in assert_error(api.get("/api/v1/imports/99"), 404)


def test_import_api__cancel_finished__400(
    api, static_segment, people, django_capture_on_commit_callbacks
):
    job_id = post_file(
        api,
        static_segment,
        csv_bytes("id", "u0"),
        capture=django_capture_on_commit_callbacks,
    ).json()["id"]
    response = api.post(f"/api/v1/imports/{job_id}/cancel")
    assert "already done" in assert_error(response, 400)


def test_import_api__issues__csv_of_every_row_not_added(
    api, static_segment, people, django_capture_on_commit_callbacks
):
    job_id = post_file(
        api,
        static_segment,
        csv_bytes("id,n", "=cmd(),1", "u0,2", "u1"),
        capture=django_capture_on_commit_callbacks,
    ).json()["id"]
    response = api.get(f"/api/v1/imports/{job_id}/issues")
    assert response["Content-Type"].startswith("text/csv")
    lines = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()
    assert lines == [
        "line,kind,value,reason",
        "2,unknown,'=cmd(),Unknown id",
        "4,invalid,u1,The row has 1 fields; the header has 2.",
    ]


def export(api, segment, query=""):
    response = api.get(f"/api/v1/segments/{segment.pk}/export{query}")
    assert response.status_code == 200, response
    return response, b"".join(response.streaming_content)


def test_export_api__csv__members_with_formulas_neutralized(api, static_segment):
    CustomerFactory(
        external_id="=HYPERLINK(1)", first_name="+1", attributes={"p": "-x"}
    )
    CustomerFactory(external_id="plain")
    segment_test_user_add(
        segment=static_segment,
        customer=CustomerFactory(external_id="tester"),
        actor=Actor.system("t"),
    )
    _run_api_import(api, static_segment, csv_bytes("id", "'=HYPERLINK(1)", "plain"))
    response, body = export(api, static_segment, "?attributes=p")
    rows = body.decode("utf-8-sig").splitlines()
    assert response["Content-Disposition"].endswith('-members.csv"')
    assert rows[0] == (
        "id,email,first_name,last_name,phone,source,override,is_test,joined_at,p"
    )
    assert rows[1].startswith("tester,")
    assert rows[2].startswith("'=HYPERLINK(1),") and ",'+1," in rows[2]
    assert rows[2].endswith(",'-x")
    assert len(rows) == 4


def test_export_api__xlsx__a_workbook_of_the_members(api, static_segment, people):
    _run_api_import(api, static_segment, csv_bytes("id", "u0", "u2"))
    _, body = export(api, static_segment, "?format=xlsx")
    sheet = load_workbook(io.BytesIO(body)).active
    assert [row[0].value for row in sheet.iter_rows()] == ["id", "u0", "u2"]


def test_export_api__unknown_format__400_in_json(api, static_segment):
    response = api.get(f"/api/v1/segments/{static_segment.pk}/export?format=pdf")
    assert_error(response, 400, field="format")


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_export_then_import__same_members(api, static_segment, people, file_format):
    CustomerFactory(external_id="-5", email="")
    _run_api_import(api, static_segment, csv_bytes("id", "u0", "u2", "-5"))
    _, body = export(api, static_segment, f"?format={file_format}")
    copy = segment_create(name="Copy", type="static", actor=Actor.system("t"))
    job = _run_api_import(api, copy, body, name=f"back.{file_format}")
    assert (job.added, job.rows_total) == (3, 3)
    members = Membership.objects.filter(segment__in=[static_segment, copy])
    assert set(members.filter(segment=copy).values_list("customer", flat=True)) == set(
        members.filter(segment=static_segment).values_list("customer", flat=True)
    )


def _run_api_import(api, segment, content: bytes, name="m.csv") -> ImportJob:
    """Upload, then run the queued job as a worker would."""
    response = api.post(
        f"/api/v1/segments/{segment.pk}/imports",
        {"file": upload(content, name)},
        format="multipart",
    )
    assert response.status_code == 202, response.json()
    import_job_run(job_id=response.json()["id"])
    return ImportJob.objects.get(pk=response.json()["id"])

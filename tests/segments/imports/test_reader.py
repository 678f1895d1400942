"""The corpus of good and bad files, read through the import service."""

import codecs

import pytest
from django.core.exceptions import ValidationError

from segments.models import ImportJob, Membership

from ...factories import CustomerFactory
from .support import csv_bytes, run, xlsx_bytes

CAFE = "café-1"  # an external id only Latin-1 family encodings write as one byte


@pytest.fixture
def people(db):
    return [CustomerFactory(external_id=value) for value in ("u1", "u2", CAFE)]


def refused(segment, content: bytes, name: str = "members.csv") -> str:
    with pytest.raises(ValidationError) as error:
        run(segment, content, name=name)
    assert not ImportJob.objects.exists()
    return " ".join(error.value.message_dict["file"])


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(csv_bytes("id", "u1", CAFE), id="utf-8"),
        pytest.param(codecs.BOM_UTF8 + csv_bytes("ID", "u1", CAFE), id="utf-8-bom"),
        pytest.param(csv_bytes("id", "u1", CAFE, encoding="utf-16"), id="utf-16-bom"),
        pytest.param(csv_bytes("id", "u1", CAFE, encoding="utf-16-le"), id="utf-16-le"),
        pytest.param(csv_bytes("id", "u1", CAFE, encoding="utf-16-be"), id="utf-16-be"),
        pytest.param(csv_bytes("id", "u1", CAFE, encoding="cp1252"), id="windows-1252"),
        pytest.param(csv_bytes("id", "u1", CAFE, newline="\r\n"), id="crlf"),
        pytest.param(csv_bytes("id", "u1", CAFE, newline="\r"), id="cr"),
        pytest.param(
            csv_bytes('"id","note"', '"u1","a, ""b"""', f'"{CAFE}","x\ny"'), id="quoted"
        ),
        pytest.param(csv_bytes("name;Id", "a;u1", f"b;{CAFE}"), id="semicolons"),
        pytest.param(csv_bytes("name\tuser_id", "a\tu1", f"b\t{CAFE}"), id="tabs"),
        pytest.param(csv_bytes("id", "", "u1", "  ", CAFE, ""), id="blank-lines"),
        pytest.param(xlsx_bytes(("Customer ID",), ("u1",), (CAFE,)), id="xlsx"),
    ],
)
def test_import__good_file__both_customers_added(static_segment, people, content):
    name = "m.xlsx" if content.startswith(b"PK") else "m.csv"
    job = run(static_segment, content, name=name)
    assert (job.status, job.added, job.rows_total) == ("done", 2, 2), job.error
    assert Membership.objects.filter(segment=static_segment).count() == 2


def test_import__quoted_multiline_field__line_numbers_of_rows(static_segment, people):
    content = csv_bytes("id,note", 'u1,"two\nlines"', "nobody,x")
    job = run(static_segment, content)
    assert list(job.issues.values_list("line", "value")) == [(4, "nobody")]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param(b"", "The file is empty.", id="empty"),
        pytest.param(b" \r\n\n", "The file is empty.", id="blank"),
        pytest.param(csv_bytes("id"), "a header but no rows", id="header-only"),
        pytest.param(
            csv_bytes("name,plan", "a,b"),
            "No id column (id, user_id, external_id, customer_id or email) in the "
            'header; found: "name", "plan".',
            id="no-id-column",
        ),
        pytest.param(
            csv_bytes("id:email", "u1:a@x.io"),
            'found: "id:email". Columns must be separated by commas',
            id="wrong-delimiter",
        ),
        pytest.param(
            csv_bytes("id,ID", "u1,u2"), 'names the column "id" more', id="dup-header"
        ),
        pytest.param(bytes(range(256)) * 20, "binary data", id="binary-junk"),
        pytest.param(b"\x89PNG\r\n\x1a\n" + bytes(200), "binary data", id="png"),
        pytest.param(b"\xd0\xcf\x11\xe0" + bytes(100), "old Excel .xls", id="xls"),
        pytest.param(b"PK\x03\x04broken", "cannot be opened", id="broken-xlsx"),
        pytest.param(
            csv_bytes("id", "ユーザー1", "ユーザー2" * 20, encoding="shift_jis"),
            "which we do not read; save it as CSV UTF-8",
            id="shift-jis",
        ),
    ],
)
def test_import__bad_file__refused_naming_the_problem(
    static_segment, people, content, expected
):
    assert expected in refused(static_segment, content)


def test_import__oversize_file__refused_before_parsing(
    static_segment, people, settings
):
    settings.IMPORT_MAX_FILE_BYTES = 10
    message = refused(static_segment, b"\x00binary that is never read")
    assert message == (
        "The file has 26 bytes; the limit is 10 bytes. Split it into smaller files."
    )


def test_import__chosen_id_column__used_over_the_usual_ones(static_segment, people):
    content = csv_bytes("id,crm", "nobody,u1", f"nobody2,{CAFE}")
    job = run(static_segment, content, id_column="CRM")
    assert (job.added, job.id_column) == (2, "crm")


def test_import__chosen_id_column_missing__names_it(static_segment, people):
    with pytest.raises(ValidationError, match='No id column \\("crm"\\)'):
        run(static_segment, csv_bytes("id", "u1"), id_column="crm")
    assert not ImportJob.objects.exists()


def test_import__invalid_encoding_after_the_sample__job_fails_naming_line(
    static_segment, people
):
    content = csv_bytes("id", *(["u1"] * 40_000)) + b"\xff\xfe bad\n"
    job = run(static_segment, content)
    assert job.status == "failed"
    assert "not valid in the file's encoding (utf-8)" in job.error
    assert not Membership.objects.exists()

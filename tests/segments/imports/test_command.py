import io

import pytest
from django.core.management import CommandError, call_command

from segments.models import Membership, MembershipChange

from ...factories import CustomerFactory
from .support import csv_bytes


def test_import_members__file__adds_and_prints_every_count(static_segment, tmp_path):
    CustomerFactory(external_id="u1")
    path = tmp_path / "vip.csv"
    path.write_bytes(csv_bytes("id", "u1", "ghost"))
    out = io.StringIO()
    call_command("import_members", "VIP list", str(path), stdout=out)
    assert "Added 1 of 2 rows to VIP list." in out.getvalue()
    assert (
        "  unknown ids: 1" in out.getvalue()
        and "line 3: 'ghost': Unknown id" in out.getvalue()
    )
    assert MembershipChange.objects.get().actor_label == "csv: vip.csv"


def test_import_members__dry_run_by_segment_id__changes_nothing(
    static_segment, tmp_path
):
    CustomerFactory(external_id="u1", email="u1@x.io")
    path = tmp_path / "vip.csv"
    path.write_bytes(csv_bytes("mail", "U1@x.io"))
    out = io.StringIO()
    call_command(
        "import_members",
        str(static_segment.pk),
        str(path),
        "--dry-run",
        "--id-type",
        "email",
        stdout=out,
    )
    assert "Would add 1 of 1 rows" in out.getvalue()
    assert not Membership.objects.exists()


def test_import_members__bad_file__command_error_naming_it(static_segment, tmp_path):
    path = tmp_path / "vip.csv"
    path.write_bytes(csv_bytes("name", "x"))
    with pytest.raises(CommandError, match='found: "name"'):
        call_command("import_members", "VIP list", str(path))


def test_import_members__unknown_segment__command_error(db, tmp_path):
    with pytest.raises(CommandError, match="No segment with id or name 'nope'"):
        call_command("import_members", "nope", str(tmp_path / "x.csv"))

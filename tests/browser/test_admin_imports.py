from pathlib import Path

import pytest
from django.urls import reverse

from segments.models import ImportJob, Membership
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db(transaction=True)
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"admin-import-{name}.png"), full_page=True)


def test_admin_import__upload_preview_confirm__members_there(
    admin_page, live_server, static_segment, tmp_path
):
    # Given two known customers and a file naming them, one unknown id and a repeat
    for external_id in ("ada-1", "bob-2"):
        CustomerFactory(external_id=external_id)
    path = tmp_path / "vip.csv"
    path.write_text("User ID,plan\nada-1,pro\nbob-2,free\nghost-9,free\nada-1,pro\n")
    url = reverse("admin:segments_segment_import_members", args=[static_segment.pk])

    # When the marketer uploads it
    admin_page.goto(live_server.url + url)
    admin_page.get_by_label("File").set_input_files(str(path))
    shot(admin_page, "1-upload")
    admin_page.get_by_role("button", name="Preview import").click()

    # Then the preview says what will happen, and nothing is written yet
    preview = admin_page.get_by_role("table", name="What the import will do")
    preview.wait_for()
    assert preview.get_by_role("row", name="to add").inner_text().split() == [
        "to",
        "add",
        "2",
    ]
    assert (
        "ghost-9" in admin_page.get_by_role("table", name="Rows not added").inner_text()
    )
    assert not Membership.objects.exists()
    shot(admin_page, "2-preview")

    # When they confirm
    admin_page.get_by_role("button", name="Confirm import").click()

    # Then the two customers are members, imported as a CSV by alice
    admin_page.get_by_role("table", name="What the import did").wait_for()
    shot(admin_page, "3-done")
    members = Membership.objects.filter(segment=static_segment)
    assert sorted(members.values_list("customer__external_id", "source")) == [
        ("ada-1", "csv"),
        ("bob-2", "csv"),
    ]
    job = ImportJob.objects.get(dry_run=False)
    assert (job.added, job.unknown, job.duplicates) == (2, 1, 1)
    admin_page.get_by_role("link", name="See the segment's members").click()
    rows = admin_page.locator("#result_list tbody tr")
    rows.first.wait_for()
    assert rows.count() == 2

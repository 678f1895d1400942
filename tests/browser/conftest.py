"""Browser tests: Debian's chromium driven by Playwright against the live server."""

import importlib
import os
import shutil

import pytest
from django.contrib.auth.models import Group, Permission

from tests.factories import UserFactory

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
]
PASSWORD = "correct-horse-battery"

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests
# make between page actions are still plain synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    if not os.path.exists(CHROMIUM):
        missing = "chromium is not installed: apt-get install chromium"
        if os.environ.get("CI"):  # CI must run these tests, never skip them
            pytest.fail(missing)
        pytest.skip(missing)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


def marketers_group():
    """The group its data migration made: made again with the same permissions,
    since a browser test's database is emptied after each test (not rolled back)."""
    migration = importlib.import_module("campaigns.migrations.0002_marketers_group")
    group, _ = Group.objects.get_or_create(name=migration.GROUP)
    for app, codename in migration._codenames():
        group.permissions.add(
            Permission.objects.get(content_type__app_label=app, codename=codename)
        )
    return group


def logged_in(browser, live_server, user):
    """A new page logged in to the admin as `user` (the factories' password)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{live_server.url}/admin/login/")
    page.get_by_label("Username:").fill(user.username)
    page.get_by_label("Password:").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_selector("#site-name")
    return page


@pytest.fixture
def admin_page(browser, live_server, admin_user):
    """A page logged in to the admin as alice."""
    page = logged_in(browser, live_server, admin_user)
    yield page
    page.context.close()


@pytest.fixture
def marketer_page(browser, live_server, db):
    """A page logged in as mia, a staff user in the Marketers group only."""
    user = UserFactory(username="mia", is_superuser=False)
    user.groups.add(marketers_group())
    page = logged_in(browser, live_server, user)
    yield page
    page.context.close()


ARTIFACTS = os.path.join(os.path.dirname(__file__), "..", "..", "test-artifacts")


@pytest.fixture
def shot(request):
    """shot(page, "step"): a screenshot of the page under test-artifacts/<test>/,
    numbered in the order the steps were taken (git-ignored; CI keeps them)."""
    folder = os.path.join(ARTIFACTS, request.node.name)
    os.makedirs(folder, exist_ok=True)
    taken = []

    def take(page, step):
        taken.append(step)
        page.screenshot(
            path=os.path.join(folder, f"{len(taken):02d}-{step}.png"), full_page=True
        )

    return take

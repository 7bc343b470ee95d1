"""A real browser for the staff pages: Debian's chromium driven by Playwright.

No browser is downloaded: .ci/run installs Debian's chromium and we launch that binary.
Set UPDATE_SCREENSHOTS=1 to (re)write the README's screenshots in docs/screenshots/.
"""

import os
import shutil
from pathlib import Path

import pytest

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="session")
def chromium():
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium; .ci/run does)")
    # Playwright's sync API runs an event loop in this thread; the ORM calls the tests
    # make around it are ordinary blocking calls.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium):
    context = chromium.new_context(viewport={"width": 1280, "height": 860})
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    yield tab
    context.close()


@pytest.fixture
def screenshot(page):
    """Save the page as a README screenshot when UPDATE_SCREENSHOTS is set."""

    def take(name: str) -> None:
        if os.environ.get("UPDATE_SCREENSHOTS"):
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=False)

    return take


@pytest.fixture
def staff_login(page, live_server, django_user_model):
    """Log a manager in through the real admin login form."""
    django_user_model.objects.create_superuser("manager", "manager@example.com", "pw-Manager-1")

    def login(next_path: str = "/admin/") -> None:
        page.goto(f"{live_server.url}/admin/login/?next={next_path}")
        page.fill("#id_username", "manager")
        page.fill("#id_password", "pw-Manager-1")
        page.click("input[type=submit]")

    return login

"""Shared fixtures."""

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def vendor_calls_in_this_process(settings):
    """Most tests answer vendor calls from this process's memory (a `responses` mount), which
    a forked process would answer from its own copy: one process here. Forked calls are
    tested over real HTTP (tests/integrations/conftest.py `forked`)."""
    settings.VENDOR_CALL_PROCESSES = 1


@pytest.fixture
def manager(django_user_model):
    """A superuser gym manager."""
    return django_user_model.objects.create_superuser("manager", "manager@example.com", "pw-Manager-1")


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


@pytest.fixture
def fast_and_fresh(settings, db):
    """Fast password hashing and empty throttle counts (`pytest.mark.usefixtures` in login tests)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()
    yield
    cache.clear()


BROWSER_TESTS = "tests/browser/"


def browser_tests_line(stats: dict) -> str:
    """One line on the browser tests of this run: how many ran, or why they were skipped."""
    reports = {}
    for outcome in ("passed", "failed", "error", "skipped"):
        for report in stats.get(outcome, []):
            if getattr(report, "nodeid", "").startswith(BROWSER_TESTS) and (
                    report.when == "call" or outcome in ("skipped", "error")):
                reports.setdefault(report.nodeid, (outcome, report))
    if not reports:
        return "Browser tests: none selected in this run."
    outcomes = [outcome for outcome, _ in reports.values()]
    ran = len(outcomes) - outcomes.count("skipped")
    reasons = sorted({str(report.longrepr[2]).removeprefix("Skipped: ") for outcome, report in reports.values()
                      if outcome == "skipped" and isinstance(report.longrepr, tuple)})
    counts = ", ".join(f"{outcomes.count(o)} {o}" for o in ("passed", "failed", "error") if outcomes.count(o))
    line = f"Browser tests: {ran} ran ({counts})" if ran else "Browser tests: none ran"
    if skipped := outcomes.count("skipped"):
        line += f"; {skipped} skipped: {'; '.join(reasons) or 'no reason given'}"
    return line + "."


def pytest_unconfigure(config):
    """`make test` ends saying whether the real-browser tests ran (chromium may be missing);
    after the terminal summary (pytest_terminal_summary runs before its last line)."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None and hasattr(reporter, "stats"):
        reporter.write_line(browser_tests_line(reporter.stats))

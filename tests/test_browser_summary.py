"""The last line of `make test`: whether the real-browser tests ran, or why not."""

from types import SimpleNamespace

from tests.conftest import browser_tests_line

MISSING = "Debian's chromium is not installed (apt-get install chromium; .ci/run does)"


def report(nodeid, when="call", reason=None):
    longrepr = (nodeid, 1, f"Skipped: {reason}") if reason else None
    return SimpleNamespace(nodeid=nodeid, when=when, longrepr=longrepr)


def test_browser_tests_that_ran_are_counted():
    stats = {"passed": [report("tests/browser/test_a.py::test_one"), report("tests/api/test_b.py::test_two")],
             "failed": [report("tests/browser/test_a.py::test_three")]}
    assert browser_tests_line(stats) == "Browser tests: 2 ran (1 passed, 1 failed)."


def test_skipped_browser_tests_say_why():
    stats = {"skipped": [report(f"tests/browser/test_a.py::test_{n}", when="setup", reason=MISSING) for n in range(3)]}
    assert browser_tests_line(stats) == f"Browser tests: none ran; 3 skipped: {MISSING}."


def test_a_run_without_browser_tests_says_so():
    assert browser_tests_line({"passed": [report("tests/api/test_b.py::test_two")]}) == (
        "Browser tests: none selected in this run.")

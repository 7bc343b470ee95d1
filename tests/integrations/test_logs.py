"""Logs: LOG_FORMAT=json writes one JSON object a line; a run is one INFO line with its
integration, sync, run id and outcome, its vendor calls DEBUG lines carrying the same."""

import io
import json
import logging
import os
import subprocess
import sys

import pytest
from django.conf import settings

from config.logs import ContextFilter, JsonFormatter
from integrations.models import SyncRun
from integrations.tasks import sync_task

pytestmark = pytest.mark.django_db


@pytest.fixture
def json_lines():
    """What the gatehouse loggers write through a LOG_FORMAT=json handler, as parsed lines."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ContextFilter())
    root = logging.getLogger("gatehouse")
    root.addHandler(handler)
    level = root.level
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)
    root.setLevel(level)


def test_a_run_logs_one_info_summary_with_its_fields_and_no_vendor_call(sandbox, integration, json_lines):
    logging.getLogger("gatehouse").setLevel(logging.INFO)
    sync_task(integration.pk, "members")
    run = SyncRun.objects.get()
    [summary] = json_lines()
    assert summary["level"] == "INFO" and summary["logger"] == "gatehouse.sync"
    assert summary["integration"] == integration.pk and summary["sync"] == "members"
    assert summary["run"] == run.pk and summary["outcome"] == "succeeded" and summary["records_created"] == 5
    assert summary["message"].startswith(f"integration={integration.pk} members: succeeded")


def test_at_debug_each_vendor_call_is_a_line_carrying_its_run_context(sandbox, integration, json_lines):
    logging.getLogger("gatehouse").setLevel(logging.DEBUG)
    sandbox.inject(status=401, path="members")
    sync_task(integration.pk, "members")
    lines = json_lines()
    calls = [line for line in lines if line["logger"] == "gatehouse.vendor" and "method" in line]
    assert calls and all(line["level"] == "DEBUG" for line in calls)
    first = calls[0]
    assert {key: first[key] for key in ("vendor", "method", "status", "attempt", "integration", "sync")} == {
        "vendor": "example", "method": "GET", "status": 401, "attempt": 1, "integration": integration.pk,
        "sync": "members"}
    assert first["path"].startswith("/api/members") and first["duration_ms"] >= 0
    failed = [line for line in lines if line.get("outcome") == "failed"]
    assert failed and failed[0]["run"] == SyncRun.objects.get().pk
    assert not any(integration.secrets()["api_key"] in json.dumps(line) for line in lines)


def test_log_format_json_configures_every_logger_for_json(tmp_path):
    """A fresh process started with LOG_FORMAT=json (as an operator would) writes JSON lines."""
    script = (
        "import django, logging; django.setup();"
        "from config.logs import log_context;"
        "logging.getLogger('django.request').warning('plain message');"
        "exec('with log_context(integration=7, sync=\"members\"):\\n"
        " logging.getLogger(\"gatehouse.sync\").info(\"done\", extra={\"outcome\": \"succeeded\"})')"
    )
    env = {**os.environ, "LOG_FORMAT": "json", "DJANGO_SETTINGS_MODULE": "config.settings"}
    done = subprocess.run([sys.executable, "-c", script], env=env, cwd=settings.BASE_DIR,  # noqa: S603 - our code
                          capture_output=True, text=True, timeout=60, check=True)
    plain, structured = [json.loads(line) for line in done.stderr.splitlines()]
    assert plain["message"] == "plain message" and plain["level"] == "WARNING"
    assert structured["integration"] == 7 and structured["sync"] == "members"
    assert structured["outcome"] == "succeeded" and structured["message"] == "done"

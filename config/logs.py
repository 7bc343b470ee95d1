"""Log lines with fields: LOG_FORMAT=json writes one JSON object a line.

A line's fields are the `extra=` of its call plus what `log_context()` holds for the code
running (a task sets integration and sync, so every vendor call of a run carries them).
The plain format shows the message only, as before.
"""

import contextlib
import json
import logging
import re
from contextvars import ContextVar
from datetime import UTC, datetime

_context: ContextVar[dict | None] = ContextVar("log_context", default=None)
# Attributes every LogRecord has: anything else on a record is a field someone added.
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime", "taskName"}


@contextlib.contextmanager
def log_context(**fields):
    """Add `fields` (e.g. integration=3, sync="members") to every line logged in the block."""
    token = _context.set({**(_context.get() or {}), **fields})
    try:
        yield
    finally:
        _context.reset(token)


class ContextFilter(logging.Filter):
    """Copies the running code's log_context() fields onto each record (extra= wins)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in (_context.get() or {}).items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


# A webhook address carrying its integration's secret token (Perfect Gym's, which cannot sign).
WEBHOOK_TOKEN = re.compile(r"(/webhooks/[\w-]+/\d+/)[^/\s'\"?]+")


def webhook_tokens_redacted(text: str) -> str:
    """`text` with the token of any webhook address in it replaced by ***."""
    return WEBHOOK_TOKEN.sub(r"\1***", text)


class WebhookTokenFilter(logging.Filter):
    """Keeps webhook address tokens out of every line: Django logs a refused request's path
    ("Not Found: /api/v1/webhooks/...") and its request object."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "/webhooks/" in message:
            record.msg, record.args = webhook_tokens_redacted(message), ()
        for key, value in list(record.__dict__.items()):
            if key not in _STANDARD and not key.startswith("_") and "/webhooks/" in (text := str(value)):
                setattr(record, key, webhook_tokens_redacted(text))
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, then the record's fields."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update({key: value for key, value in record.__dict__.items()
                     if key not in _STANDARD and not key.startswith("_")})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)

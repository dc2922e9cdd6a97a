"""Structured logs: one JSON object per line, carrying the ids of the work being done."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from podium.observability.context import (
    correlation_id_var,
    request_id_var,
    run_id_var,
    task_id_var,
)

__all__ = ["UNITS_LOGGER", "JsonFormatter", "setup_logging"]

UNITS_LOGGER = "podium.units"
"""One line per unit of work that changed something, at INFO (enabled with JSON logs)."""

# Attributes every LogRecord has: anything else on a record came from ``extra=`` and is data.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
}
_CONTEXT = (
    ("requestId", request_id_var),
    ("correlationId", correlation_id_var),
    ("workflowId", run_id_var),
    ("taskId", task_id_var),
)


class JsonFormatter(logging.Formatter):
    """A log record as one JSON line: time, level, logger, message, the ids, and ``extra``."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, var in _CONTEXT:
            value = var.get()
            if value is not None:
                entry[key] = value
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def setup_logging(fmt: str, level: str = "INFO", *, logger: str = "") -> logging.Handler:
    """Log to stderr as ``json`` or ``text``; returns the handler so that it can be removed.

    JSON logs include the per-unit-of-work lines; text logs leave them out, being for people.
    """
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    target = logging.getLogger(logger)
    target.addHandler(handler)
    target.setLevel(level.upper())
    logging.getLogger(UNITS_LOGGER).setLevel(logging.INFO if fmt == "json" else logging.WARNING)
    return handler

"""The audit log: what a key did that a registry of definitions would not show.

One INFO line per event on the ``podium.audit`` logger, its fields as ``extra`` (JSON logs
print them as keys; see ``logs.py``). Durable where the logs are kept; the run itself records
the same facts (``createdBy``, ``inlineDefinitionHash``), so they outlive the log lines.
"""

from __future__ import annotations

import logging

__all__ = ["AUDIT_LOGGER", "log_inline_run"]

AUDIT_LOGGER = "podium.audit"

log = logging.getLogger(AUDIT_LOGGER)


def log_inline_run(key_id: str | None, run_id: str, name: str, definition_hash: str) -> None:
    """A run was started of a definition given with the request, not a registered one."""
    who = key_id or "anonymous (auth off)"
    log.info(
        "key %s started run %s of an inline definition %s (sha256 %s)",
        who,
        run_id,
        name,
        definition_hash,
        extra={
            "event": "inline_definition_run",
            "keyId": key_id,
            "workflowId": run_id,
            "workflowName": name,
            "definitionHash": definition_hash,
        },
    )

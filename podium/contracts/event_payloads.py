"""Events published through the API are held to their event type's contract.

The latest registered version of the event contract named like the event's type applies; a
payload that breaks it is refused (400) before anything is stored, naming the contract, its
version, the offending field and the publishing service.
"""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator

from podium.contracts import registry
from podium.contracts.binding import SchemaRef
from podium.contracts.validator import compile_schema, violations
from podium.store.base import StoreTx

__all__ = ["payload_problem"]

_VALIDATORS: dict[tuple[str, str], Draft202012Validator] = {}


def payload_problem(
    tx: StoreTx, event_type: str, payload: Any, source: str | None
) -> tuple[str, str] | None:
    """``(message, json path)`` when ``payload`` breaks its event type's contract."""
    if not registry.versions(tx, "event", event_type):
        return None
    contract = registry.find(tx, "event", SchemaRef(event_type))
    schema = contract.schema("payload") if contract is not None else None
    if contract is None or schema is None:
        return None
    key = (event_type, str(contract.version))
    validator = _VALIDATORS.get(key)
    if validator is None:
        # A stored contract version never changes, so its compiled schema may be kept.
        validator = _VALIDATORS[key] = compile_schema(schema)
    problems = violations(validator, payload)
    if not problems:
        return None
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    message = (
        f"contract violation: the payload of event type '{event_type}' breaks event contract "
        f"'{contract.name}' v{contract.version} at {problems[0]}{more}; "
        f"produced by {f'service {source}' if source else 'the publisher'}"
    )
    return message, problems[0].path

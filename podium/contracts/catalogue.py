"""The "score": a catalogue of services, their tasks, workflows, events and contracts.

Built from a registry (and, from a server, its TaskDefs and workflows) and rendered as Markdown
for a repository or HTML for a browser: what a new engineer reads to learn who produces what.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from typing import Any

from podium.contracts.binding import task_binding
from podium.contracts.check import latest
from podium.contracts.model import Contract
from podium.dsl import walk
from podium.dsl.models import TaskDef, WorkflowDef
from podium.errors import PodiumError

__all__ = ["Score", "field_rows", "to_html", "to_markdown"]

UNASSIGNED = "(no service named)"
_MAX_DEPTH = 4


@dataclass(slots=True)
class TaskEntry:
    name: str
    description: str | None = None
    contract: Contract | None = None
    owner: str | None = None
    registered: bool = False


@dataclass(slots=True)
class Service:
    name: str
    tasks: list[TaskEntry] = field(default_factory=list)
    events: list[Contract] = field(default_factory=list)


@dataclass(slots=True)
class WorkflowEntry:
    name: str
    version: int
    description: str | None
    steps: list[tuple[str, str, str]]
    contract: Contract | None


@dataclass(slots=True)
class Score:
    services: list[Service]
    workflows: list[WorkflowEntry]

    @classmethod
    def build(
        cls,
        contracts: list[Contract],
        task_defs: list[dict[str, Any]] | None = None,
        workflow_defs: list[dict[str, Any]] | None = None,
    ) -> Score:
        by_key = latest(contracts)
        services: dict[str, Service] = {}

        def service(name: str | None) -> Service:
            key = name or UNASSIGNED
            return services.setdefault(key, Service(key))

        listed: set[str] = set()
        for body in task_defs or []:
            task_def = TaskDef.model_validate(body)
            try:
                binding = task_binding(task_def)
            except PodiumError:
                binding = None
            ref = binding and (binding.output or binding.input)
            contract = by_key.get(("task", ref.name)) if ref else None
            app = (task_def.model_extra or {}).get("ownerApp")
            owner = app if isinstance(app, str) else (contract.service if contract else None)
            entry = TaskEntry(
                task_def.name, task_def.description, contract, task_def.ownerEmail, True
            )
            service(owner).tasks.append(entry)
            if contract is not None:
                listed.add(contract.name)
        for (kind, name), contract in sorted(by_key.items()):
            if kind == "task" and name not in listed:
                entry = TaskEntry(name, contract.description, contract, contract.owner)
                service(contract.service).tasks.append(entry)
            elif kind == "event":
                service(contract.service).events.append(contract)
        workflows = _workflows(workflow_defs or [], by_key)
        ordered = sorted(services.values(), key=lambda s: (s.name == UNASSIGNED, s.name))
        for item in ordered:
            item.tasks.sort(key=lambda t: t.name)
        return cls(ordered, workflows)


def _workflows(
    bodies: list[dict[str, Any]], by_key: dict[tuple[str, str], Contract]
) -> list[WorkflowEntry]:
    newest: dict[str, WorkflowDef] = {}
    for body in bodies:
        definition = WorkflowDef.model_validate(body)
        held = newest.get(definition.name)
        if held is None or definition.version > held.version:
            newest[definition.name] = definition
    found = [
        WorkflowEntry(
            definition.name,
            definition.version,
            definition.description,
            [
                (step.taskReferenceName, step.name, str(step.type))
                for step in walk.steps(definition.tasks)
            ],
            by_key.get(("workflow", definition.name)),
        )
        for definition in newest.values()
    ]
    named = {entry.name for entry in found}
    for (kind, name), contract in sorted(by_key.items()):
        if kind == "workflow" and name not in named:
            found.append(WorkflowEntry(name, 0, contract.description, [], contract))
    return sorted(found, key=lambda entry: entry.name)


def _type_text(schema: Any) -> str:
    if not isinstance(schema, dict):
        return "any" if schema is not False else "nothing"
    declared = schema.get("type")
    parts = ["|".join(declared) if isinstance(declared, list) else str(declared or "")]
    if "enum" in schema:
        parts.append("one of " + ", ".join(json.dumps(v) for v in schema["enum"]))
    if "const" in schema:
        parts.append(f"= {json.dumps(schema['const'])}")
    if "format" in schema:
        parts.append(f"format {schema['format']}")
    for word, sign in (("minimum", ">="), ("maximum", "<="), ("exclusiveMinimum", ">"),
                       ("exclusiveMaximum", "<"), ("minLength", "length >="),
                       ("maxLength", "length <="), ("minItems", "items >="),
                       ("maxItems", "items <=")):  # fmt: skip
        if word in schema:
            parts.append(f"{sign} {schema[word]}")
    if "pattern" in schema:
        parts.append(f"matching `{schema['pattern']}`")
    return ", ".join(part for part in parts if part) or "any"


def field_rows(schema: Any, prefix: str = "", depth: int = 0) -> list[tuple[str, str, bool, str]]:
    """(field, type, required, description) for each declared field, nested ones dotted."""
    if not isinstance(schema, dict) or depth > _MAX_DEPTH:
        return []
    rows: list[tuple[str, str, bool, str]] = []
    required = set(schema.get("required") or [])
    for name, sub in (schema.get("properties") or {}).items():
        here = f"{prefix}{name}"
        text = sub.get("description", "") if isinstance(sub, dict) else ""
        rows.append((here, _type_text(sub), name in required, text))
        rows.extend(field_rows(sub, f"{here}.", depth + 1))
        if isinstance(sub, dict) and isinstance(sub.get("items"), dict):
            rows.extend(field_rows(sub["items"], f"{here}[].", depth + 1))
    return rows


def _md_table(schema: dict[str, Any] | None, title: str) -> list[str]:
    if schema is None:
        return []
    rows = field_rows(schema)
    lines = [f"**{title}**", ""]
    if not rows:
        return [*lines, f"_{_type_text(schema)}, no declared fields_", ""]
    lines += ["| Field | Type | Required | Description |", "|---|---|---|---|"]
    for name, kind, required, text in rows:
        cell = kind.replace("|", "\\|")
        lines.append(f"| `{name}` | {cell} | {'yes' if required else ''} | {text} |")
    return [*lines, ""]


def _md_contract(contract: Contract | None, said: str | None = None) -> list[str]:
    if contract is None:
        return ["_No contract: inputs and outputs are not checked._", ""]
    lines = [f"Contract `{contract.name}` v{contract.version}", ""]
    if contract.description and contract.description != said:
        lines += [contract.description, ""]
    for part in ("input", "output", "payload"):
        lines += _md_table(contract.schema(part), part.capitalize())
    return lines


def to_markdown(score: Score) -> str:
    lines = ["# The score: services, tasks and contracts", ""]
    tasks = sum(len(s.tasks) for s in score.services)
    events = sum(len(s.events) for s in score.services)
    lines += [
        f"{len(score.services)} services, {tasks} tasks, {len(score.workflows)} workflows, "
        f"{events} event types.",
        "",
    ]
    for item in score.services:
        lines += [f"## Service `{item.name}`", ""]
        for task in item.tasks:
            lines += [f"### Task `{task.name}`", ""]
            if task.description:
                lines += [task.description, ""]
            if task.owner:
                lines += [f"Owner: {task.owner}", ""]
            lines += _md_contract(task.contract, task.description)
        for event in item.events:
            lines += [f"### Event `{event.name}`", ""]
            if event.description:
                lines += [event.description, ""]
            lines += _md_contract(event, event.description)
    if score.workflows:
        lines += ["## Workflows", ""]
    for flow in score.workflows:
        version = f" v{flow.version}" if flow.version else ""
        lines += [f"### Workflow `{flow.name}`{version}", ""]
        if flow.description:
            lines += [flow.description, ""]
        if flow.steps:
            steps = " -> ".join(f"`{ref}` ({name})" for ref, name, _ in flow.steps)
            lines += [f"Steps: {steps}", ""]
        if flow.contract is not None:
            lines += _md_contract(flow.contract)
    return "\n".join(lines).rstrip() + "\n"


def _html_table(schema: dict[str, Any] | None, title: str) -> str:
    if schema is None:
        return ""
    rows = "".join(
        f"<tr><td><code>{html.escape(name)}</code></td><td>{html.escape(kind)}</td>"
        f"<td>{'yes' if required else ''}</td><td>{html.escape(text)}</td></tr>"
        for name, kind, required, text in field_rows(schema)
    )
    head = "<tr><th>Field</th><th>Type</th><th>Required</th><th>Description</th></tr>"
    return f"<h4>{title}</h4><table>{head}{rows}</table>"


def _html_contract(contract: Contract | None, said: str | None = None) -> str:
    if contract is None:
        return "<p><em>No contract: inputs and outputs are not checked.</em></p>"
    out = f"<p>Contract <code>{html.escape(contract.name)}</code> v{contract.version}</p>"
    if contract.description and contract.description != said:
        out += f"<p>{html.escape(contract.description)}</p>"
    for part in ("input", "output", "payload"):
        out += _html_table(contract.schema(part), part.capitalize())
    return out


def to_html(score: Score) -> str:
    body = ["<h1>The score: services, tasks and contracts</h1>"]
    for item in score.services:
        body.append(f"<h2>Service <code>{html.escape(item.name)}</code></h2>")
        for task in item.tasks:
            body.append(f"<h3>Task <code>{html.escape(task.name)}</code></h3>")
            if task.description:
                body.append(f"<p>{html.escape(task.description)}</p>")
            body.append(_html_contract(task.contract, task.description))
        for event in item.events:
            body.append(f"<h3>Event <code>{html.escape(event.name)}</code></h3>")
            body.append(_html_contract(event))
    if score.workflows:
        body.append("<h2>Workflows</h2>")
    for flow in score.workflows:
        body.append(f"<h3>Workflow <code>{html.escape(flow.name)}</code></h3>")
        if flow.steps:
            steps = " &rarr; ".join(html.escape(f"{ref} ({name})") for ref, name, _ in flow.steps)
            body.append(f"<p>Steps: {steps}</p>")
        if flow.contract is not None:
            body.append(_html_contract(flow.contract))
    style = "body{font-family:sans-serif;max-width:60em;margin:auto}td,th{border:1px solid #ccc;padding:.2em .5em}table{border-collapse:collapse}"
    return (
        '<!doctype html><html><head><meta charset="utf-8"><title>The score</title>'
        f"<style>{style}</style></head><body>{''.join(body)}</body></html>\n"
    )

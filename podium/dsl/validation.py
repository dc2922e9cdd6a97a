"""Checks a workflow definition can run before it is stored, naming each problem's place.

A definition is rejected with *every* problem listed, each as ``tasks[2].inputParameters``-style
path plus the task reference, so the author can fix them in one pass.
"""

from __future__ import annotations

from typing import Any

from podium.dsl import expressions
from podium.dsl.durations import parse_duration_s, parse_until_ms
from podium.dsl.models import TaskType, WorkflowDef, WorkflowTask
from podium.dsl.safe_expr import compile_expression
from podium.errors import DefinitionError, PodiumError

__all__ = ["UNSUPPORTED_YET", "validate_workflow"]

SUPPORTED = frozenset(t.value for t in TaskType)
UNSUPPORTED_YET = frozenset(
    {
        "DO_WHILE",
        "FORK_JOIN_DYNAMIC",
        "DYNAMIC",
        "HUMAN",
        "INLINE",
        "JSON_JQ_TRANSFORM",
        "START_WORKFLOW",
        "NOOP",
        "DECISION",
        "EVENT",
        "KAFKA_PUBLISH",
        "LAMBDA",
        "EXCLUSIVE_JOIN",
        "BUSINESS_RULE",
        "GET_SIGNED_JWT",
        "UPDATE_SECRET",
        "QUERY_PROCESSOR",
        "OPS_GENIE",
        "LLM_TEXT_COMPLETE",
    }
)
_EVALUATORS = frozenset({"value-param", "javascript", "graaljs"})
_TERMINATION_STATUSES = frozenset({"COMPLETED", "FAILED", "TERMINATED"})
# Keys of a task's context that expressions may read besides input and output.
_TASK_FIELDS = frozenset(
    {"input", "output", "status", "taskId", "retryCount", "reasonForIncompletion", "subWorkflowId"}
)


def validate_workflow(definition: WorkflowDef) -> None:
    """Raise DefinitionError listing every problem in ``definition``; return if it can run."""
    problems: list[str] = []
    refs: dict[str, str] = {}
    _walk(definition.tasks, "tasks", refs, problems)
    for path, step in _all_with_paths(definition.tasks, "tasks"):
        _check_references(step.inputParameters, f"{path}.inputParameters", step, refs, problems)
        if step.type == TaskType.JOIN:
            for i, ref in enumerate(step.joinOn):
                if ref not in refs:
                    problems.append(
                        f"{path}.joinOn[{i}] (task '{step.taskReferenceName}'): "
                        f"no task has reference name '{ref}'"
                    )
    _check_references(definition.outputParameters, "outputParameters", None, refs, problems)
    if problems:
        raise DefinitionError(
            f"workflow '{definition.name}' v{definition.version} is not valid: "
            + "; ".join(problems),
            service="dsl",
            field=problems[0].split(" ", 1)[0].rstrip(":"),
        )


def _all_with_paths(tasks: list[WorkflowTask], path: str) -> list[tuple[str, WorkflowTask]]:
    found: list[tuple[str, WorkflowTask]] = []
    for i, step in enumerate(tasks):
        here = f"{path}[{i}]"
        found.append((here, step))
        for case, branch in step.decisionCases.items():
            found.extend(_all_with_paths(branch, f"{here}.decisionCases.{case}"))
        found.extend(_all_with_paths(step.defaultCase, f"{here}.defaultCase"))
        for j, branch in enumerate(step.forkTasks):
            found.extend(_all_with_paths(branch, f"{here}.forkTasks[{j}]"))
    return found


def _walk(tasks: list[WorkflowTask], path: str, refs: dict[str, str], problems: list[str]) -> None:
    for i, step in enumerate(tasks):
        here = f"{path}[{i}]"
        ref = step.taskReferenceName
        where = f"{here} (task '{ref}')"
        if ref in refs:
            problems.append(f"{here}.taskReferenceName: '{ref}' is already used at {refs[ref]}")
        else:
            refs[ref] = here
        _check_step(step, where, here, problems)
        if step.type == TaskType.FORK_JOIN:
            following = tasks[i + 1] if i + 1 < len(tasks) else None
            if following is None or following.type != TaskType.JOIN:
                problems.append(f"{where}: a FORK_JOIN must be followed by a JOIN")
        for case, branch in step.decisionCases.items():
            _walk(branch, f"{here}.decisionCases.{case}", refs, problems)
        _walk(step.defaultCase, f"{here}.defaultCase", refs, problems)
        for j, branch in enumerate(step.forkTasks):
            _walk(branch, f"{here}.forkTasks[{j}]", refs, problems)


def _check_step(step: WorkflowTask, where: str, here: str, problems: list[str]) -> None:
    kind = step.type
    at = f" (task '{step.taskReferenceName}')"
    if kind not in SUPPORTED:
        if kind in UNSUPPORTED_YET:
            problems.append(f"{here}.type{at}: task type '{kind}' is not supported by Podium yet")
        else:
            problems.append(
                f"{here}.type{at}: unknown task type '{kind}' (known: {', '.join(sorted(SUPPORTED))})"
            )
        return
    if kind == TaskType.SWITCH:
        evaluator = (step.evaluatorType or "").lower()
        if evaluator not in _EVALUATORS:
            problems.append(
                f"{here}.evaluatorType{at}: '{step.evaluatorType}' is not one of "
                f"{', '.join(sorted(_EVALUATORS))}"
            )
        if not step.expression:
            problems.append(f"{here}.expression{at}: a SWITCH needs an expression")
        elif evaluator in ("javascript", "graaljs"):
            try:
                compile_expression(step.expression)
            except PodiumError as exc:
                problems.append(f"{here}.expression{at}: {exc.message}")
    elif kind == TaskType.FORK_JOIN:
        if not step.forkTasks:
            problems.append(f"{here}.forkTasks{at}: a FORK_JOIN needs at least one branch")
    elif kind == TaskType.SUB_WORKFLOW:
        if step.subWorkflowParam is None:
            problems.append(
                f"{here}.subWorkflowParam{at}: a SUB_WORKFLOW needs subWorkflowParam.name"
            )
    elif kind == TaskType.HTTP:
        request = step.inputParameters.get("http_request")
        if not isinstance(request, dict) or not request.get("uri"):
            problems.append(
                f"{here}.inputParameters.http_request.uri{at}: an HTTP task needs a uri"
            )
    elif kind == TaskType.TERMINATE:
        status = step.inputParameters.get("terminationStatus")
        if isinstance(status, str) and "${" not in status and status not in _TERMINATION_STATUSES:
            problems.append(
                f"{here}.inputParameters.terminationStatus{at}: '{status}' is not one of "
                "COMPLETED, FAILED, TERMINATED"
            )
    elif kind == TaskType.WAIT:
        _check_wait(step, here, problems)
    if kind not in (TaskType.SWITCH,) and (step.decisionCases or step.defaultCase):
        problems.append(f"{where}: only a SWITCH may have decisionCases/defaultCase")
    if kind != TaskType.FORK_JOIN and step.forkTasks:
        problems.append(f"{where}: only a FORK_JOIN may have forkTasks")


def _check_wait(step: WorkflowTask, here: str, problems: list[str]) -> None:
    at = f" (task '{step.taskReferenceName}')"
    for key, parse in (("duration", parse_duration_s), ("until", parse_until_ms)):
        value = step.inputParameters.get(key)
        if isinstance(value, str) and value and "${" not in value:
            try:
                parse(value)
            except ValueError as exc:
                problems.append(f"{here}.inputParameters.{key}{at}: {exc}")


def _check_references(
    template: Any,
    path: str,
    step: WorkflowTask | None,
    refs: dict[str, str],
    problems: list[str],
) -> None:
    owner = f" (task '{step.taskReferenceName}')" if step else ""
    try:
        found = expressions.references(template)
    except expressions.ExpressionError as exc:
        where = f"{path}.{exc.field}" if exc.field else path
        problems.append(f"{where}{owner}: {exc.message}")
        return
    for reference in found:
        root = expressions.reference_root(reference)
        if root == "workflow":
            continue
        if root not in refs:
            problems.append(
                f"{path}{owner}: '${{{reference}}}' refers to '{root}', which is no task "
                "reference name in this workflow"
            )
            continue
        rest = reference[len(root) :].lstrip(".").split(".", 1)[0].split("[", 1)[0]
        if rest and rest not in _TASK_FIELDS:
            problems.append(
                f"{path}{owner}: '${{{reference}}}' reads '{rest}' of task '{root}'; "
                f"use one of {', '.join(sorted(_TASK_FIELDS))}"
            )

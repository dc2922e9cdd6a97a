"""Checks a workflow definition can run before it is stored, naming each problem's place.

A definition is rejected with *every* problem listed, each as ``tasks[2].inputParameters``-style
path plus the task reference, so the author can fix them in one pass.

What Conductor registers Podium registers too, even where it looks wrong (an unknown reference
in ``outputParameters``, an empty ``loopCondition``, a FORK_JOIN ending the workflow without a
JOIN): :func:`validate_workflow` returns those as warnings, in the same form, for registration to
answer (and ``?strict=true`` to refuse).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import pydantic

from podium.dsl import evaluators, expressions, http_request, walk
from podium.dsl.durations import parse_duration_s, parse_until_ms
from podium.dsl.models import COMPENSATION_TYPES, TaskType, WorkflowDef, WorkflowTask
from podium.dsl.sinks import sink_problem
from podium.dsl.suggestions import did_you_mean
from podium.errors import DefinitionError

__all__ = [
    "ITERATION_SUFFIX",
    "TASK_FIELDS",
    "UNSUPPORTED_YET",
    "validate_workflow",
]

SUPPORTED = frozenset(t.value for t in TaskType)
UNSUPPORTED_YET = frozenset(
    {
        "KAFKA_PUBLISH",
        "BUSINESS_RULE",
        "GET_SIGNED_JWT",
        "UPDATE_SECRET",
        "QUERY_PROCESSOR",
        "OPS_GENIE",
        "LLM_TEXT_COMPLETE",
    }
)
_EVALUATORS = evaluators.EVALUATORS
# Loop iterations add ``__<n>`` to reference names, so a name ending like that is ambiguous.
ITERATION_SUFFIX = re.compile(r"(__\d+)+$")
_FORKS = (TaskType.FORK_JOIN, TaskType.FORK_JOIN_DYNAMIC)
_TERMINATION_STATUSES = frozenset({"COMPLETED", "FAILED", "TERMINATED"})
# Conductor's system parameters (EnvUtils.SystemParameters): ``${CPEWF_TASK_ID}`` is the id of
# the task whose input holds it; the others are read from the server's environment there, which
# Podium never exposes, so they register, with a warning, and resolve to null.
_TASK_ID_PARAMETER = "CPEWF_TASK_ID"
_SYSTEM_PARAMETERS = frozenset({_TASK_ID_PARAMETER, "NETFLIX_ENV", "NETFLIX_STACK"})
# The keys of a task's context (``engine/context``), as in Conductor's ParametersUtils.
TASK_FIELDS = frozenset(
    {
        "input",
        "output",
        "taskType",
        "status",
        "referenceTaskName",
        "retryCount",
        "correlationId",
        "pollCount",
        "taskDefName",
        "scheduledTime",
        "startTime",
        "endTime",
        "workflowInstanceId",
        "taskId",
        "reasonForIncompletion",
        "callbackAfterSeconds",
        "workerId",
        "iteration",
        "subWorkflowId",
    }
)


def validate_workflow(
    definition: WorkflowDef, templates: Mapping[str, dict[str, Any]] | None = None
) -> list[str]:
    """Raise DefinitionError listing every problem in ``definition``; if it can run, return what
    Conductor registers but Podium warns about (``[]`` when nothing). ``templates`` are the
    registered TaskDefs' ``inputTemplate``s by name, which an HTTP step's request may come
    from (``http_request.template_names`` says which to read)."""
    templates = templates or {}
    problems: list[str] = []
    lenient: list[str] = []
    refs: dict[str, str] = {}
    places = list(walk.walk(definition.tasks))
    _check_steps(places, refs, problems, lenient)
    looped = {place.step.taskReferenceName for place in places if place.loops}
    for ref in sorted(looped):
        if ITERATION_SUFFIX.search(ref):
            problems.append(
                f"{refs[ref]}.taskReferenceName (task '{ref}'): a task inside a DO_WHILE may not "
                "end its reference name in '__<number>': iterations add that suffix"
            )
    # Conductor checks the references of top-level steps only (TaskReferenceNameUniqueConstraint);
    # elsewhere an unknown one registers and resolves to null, so it is a warning.
    for place in places:
        path, step = place.path, place.step
        at = f" (task '{step.taskReferenceName}')"
        _check_references(
            step.inputParameters,
            f"{path}.inputParameters",
            step,
            refs,
            looped,
            problems,
            lenient,
            unknown_refused=place.kind == "top",
        )
        if step.type == TaskType.HTTP:
            inputs = http_request.under_template(step, templates)
            problem = http_request.uri_problem(inputs, f"{path}.inputParameters", at)
            if problem:
                problems.append(f"{problem}: an HTTP task needs a uri")
        if step.compensation is not None:
            _check_compensation(step, f"{path}.compensation", refs, problems, looped, templates)
        if step.type in (TaskType.JOIN, TaskType.EXCLUSIVE_JOIN):
            joined = [
                ("joinOn", step.joinOn),
                ("defaultExclusiveJoinTask", step.defaultExclusiveJoinTask or []),
            ]
            for field, names in joined:
                for i, ref in enumerate(names):
                    if ref not in refs:
                        problems.append(
                            f"{path}.{field}[{i}] (task '{step.taskReferenceName}'): "
                            f"no task has reference name '{ref}'{did_you_mean(ref, refs)}"
                        )
    _check_references(
        definition.outputParameters,
        "outputParameters",
        None,
        refs,
        looped,
        problems,
        lenient,
        unknown_refused=False,
    )
    if problems:
        raise DefinitionError(
            f"workflow '{definition.name}' v{definition.version} is not valid: "
            + "; ".join(problems),
            service="dsl",
            field=problems[0].split(" ", 1)[0].rstrip(":"),
        )
    return lenient


def _check_steps(
    places: list[walk.Place], refs: dict[str, str], problems: list[str], lenient: list[str]
) -> None:
    """Each step on its own, and its reference name against those of the steps before it."""
    for place in places:
        step, here = place.step, place.path
        ref = step.taskReferenceName
        where = f"{here} (task '{ref}')"
        if ref in refs:
            problems.append(f"{here}.taskReferenceName: '{ref}' is already used at {refs[ref]}")
        else:
            refs[ref] = here
        _check_step(step, where, here, problems, lenient)
        if step.type in _FORKS:
            after = place.position + 1
            following = place.siblings[after] if after < len(place.siblings) else None
            if following is None and place.kind == "top" and step.type == TaskType.FORK_JOIN:
                # Conductor registers a fork that ends the workflow; with nothing to join,
                # its branches run and the run ends when they have.
                lenient.append(
                    f"{where}: a {step.type} should be followed by a JOIN; without one the run "
                    "ends when its branches end, and nothing after it waits for them"
                )
            elif following is None or following.type != TaskType.JOIN:
                problems.append(f"{where}: a {step.type} must be followed by a JOIN")


def _check_step(
    step: WorkflowTask, where: str, here: str, problems: list[str], lenient: list[str]
) -> None:
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
        elif evaluator in evaluators.JAVASCRIPT:
            # Conductor compiles a SWITCH's script at registration only for "javascript".
            strict = evaluator == "javascript"
            into = problems if strict else lenient
            _check_javascript(step.expression, f"{here}.expression{at}", into, warn=not strict)
    elif kind in _CHECKS:
        _CHECKS[TaskType(kind)](step, here, at, problems, lenient)
    elif kind == TaskType.FORK_JOIN:
        if not step.forkTasks:
            problems.append(f"{here}.forkTasks{at}: a FORK_JOIN needs at least one branch")
    elif kind == TaskType.SUB_WORKFLOW:
        if step.subWorkflowParam is None:
            problems.append(
                f"{here}.subWorkflowParam{at}: a SUB_WORKFLOW needs subWorkflowParam.name"
            )
        else:
            _check_inline_child(step, f"{here}.subWorkflowParam.workflowDefinition", at, problems)
    elif kind == TaskType.TERMINATE:
        status = step.inputParameters.get("terminationStatus")
        if isinstance(status, str) and "${" not in status and status not in _TERMINATION_STATUSES:
            problems.append(
                f"{here}.inputParameters.terminationStatus{at}: '{status}' is not one of "
                "COMPLETED, FAILED, TERMINATED"
            )
    elif kind == TaskType.WAIT:
        _check_wait(step, here, problems)
    elif kind == TaskType.EVENT:
        problem = sink_problem(step.sink)
        if problem and step.sink:
            # Conductor wants a sink and registers any; one Podium cannot publish to fails
            # its task when it runs, as Conductor's does without that queue provider.
            lenient.append(f"{here}.sink{at}: {problem}; the step fails when it runs")
        elif problem:
            problems.append(f"{here}.sink{at}: {problem}")
    if kind not in (TaskType.SWITCH, TaskType.DECISION) and (
        step.decisionCases or step.defaultCase
    ):
        problems.append(f"{where}: only a SWITCH or DECISION may have decisionCases/defaultCase")
    if kind != TaskType.FORK_JOIN and step.forkTasks:
        problems.append(f"{where}: only a FORK_JOIN may have forkTasks")
    if kind != TaskType.DO_WHILE and step.loopOver:
        problems.append(f"{where}: only a DO_WHILE may have loopOver")


def _check_inline_child(step: WorkflowTask, field: str, at: str, problems: list[str]) -> None:
    """An inline sub-workflow is checked as the definition the child will run."""
    assert step.subWorkflowParam is not None
    body = step.subWorkflowParam.inline_definition(step.name)
    if body is None:
        return
    try:
        validate_workflow(WorkflowDef.model_validate(body))
    except pydantic.ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        problems.append(f"{field}.{where}{at}: {error['msg']}")
    except DefinitionError as exc:
        problems.append(f"{field}.{exc.field or 'tasks'}{at}: {exc.message}")


def _check_compensation(
    step: WorkflowTask,
    path: str,
    refs: dict[str, str],
    problems: list[str],
    looped: set[str],
    templates: Mapping[str, dict[str, Any]],
) -> None:
    undo = step.compensation
    assert undo is not None
    at = f" (task '{step.taskReferenceName}')"
    if undo.type not in COMPENSATION_TYPES:
        problems.append(
            f"{path}.type{at}: a compensation's type must be one of "
            f"{', '.join(sorted(COMPENSATION_TYPES))}, not '{undo.type}'"
        )
    elif undo.type == TaskType.SUB_WORKFLOW and undo.subWorkflowParam is None:
        problems.append(
            f"{path}.subWorkflowParam{at}: a SUB_WORKFLOW compensation needs subWorkflowParam.name"
        )
    elif undo.type == TaskType.HTTP:
        inputs = http_request.under_template(undo, templates)
        problem = http_request.uri_problem(inputs, f"{path}.inputParameters", at)
        if problem:
            problems.append(f"{problem}: an HTTP compensation needs a uri")
    # ``compensated`` is the step being undone: the attempt and iteration that completed.
    with_self = {**refs, "compensated": path}
    # Compensations are Podium's own: nothing in them is left to resolve to null.
    _check_references(
        undo.inputParameters,
        f"{path}.inputParameters",
        step,
        with_self,
        looped,
        problems,
        problems,
        unknown_refused=True,
    )


def _check_routing_slip(
    step: WorkflowTask, here: str, at: str, problems: list[str], lenient: list[str]
) -> None:
    itinerary = step.inputParameters.get("itinerary")
    if isinstance(itinerary, str) and "${" in itinerary:
        return  # given at run time, checked when the slip starts
    if not isinstance(itinerary, list):
        problems.append(
            f"{here}.inputParameters.itinerary{at}: a ROUTING_SLIP needs an itinerary, a list "
            "of steps or an expression such as ${workflow.input.itinerary}"
        )
        return
    for i, item in enumerate(itinerary):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            problems.append(
                f"{here}.inputParameters.itinerary[{i}]{at}: a step needs at least a 'name'"
            )


def _check_javascript(source: str, where: str, found: list[str], *, warn: bool) -> None:
    """A script that does not parse, into ``found``: the problems where Conductor compiles the
    script at registration (a DECISION's, a "javascript" SWITCH's), else the warnings, since
    Conductor registers it and the step fails when it runs."""
    problem = evaluators.javascript_problem(source)
    if problem is not None:
        found.append(f"{where}: {problem}" + ("; the step fails when it runs" if warn else ""))


def _check_decision(
    step: WorkflowTask, here: str, at: str, problems: list[str], lenient: list[str]
) -> None:
    if step.caseExpression:
        _check_javascript(step.caseExpression, f"{here}.caseExpression{at}", problems, warn=False)
    elif not step.caseValueParam:
        problems.append(
            f"{here}.caseValueParam{at}: a DECISION needs caseValueParam or caseExpression"
        )


def _check_do_while(
    step: WorkflowTask, here: str, at: str, problems: list[str], lenient: list[str]
) -> None:
    if not step.loopOver:
        problems.append(f"{here}.loopOver{at}: a DO_WHILE needs at least one task in loopOver")
    evaluator = (step.evaluatorType or "javascript").lower()
    if evaluator not in _EVALUATORS:
        problems.append(
            f"{here}.evaluatorType{at}: '{step.evaluatorType}' is not one of "
            f"{', '.join(sorted(_EVALUATORS))}"
        )
    if step.loopCondition is None:
        problems.append(f"{here}.loopCondition{at}: a DO_WHILE needs a loopCondition")
    elif not step.loopCondition.strip():
        # Conductor registers it and reads the empty script's value as false: one iteration.
        lenient.append(
            f"{here}.loopCondition{at}: the loopCondition is empty, so the loop runs its body "
            f"once; give a condition such as \"$.{step.taskReferenceName}['iteration'] < 3\""
        )
    elif evaluator in evaluators.JAVASCRIPT:
        _check_javascript(step.loopCondition, f"{here}.loopCondition{at}", lenient, warn=True)
    keep = step.inputParameters.get("keepLastN")
    if keep is not None and not (isinstance(keep, str) and "${" in keep):
        if isinstance(keep, bool) or not isinstance(keep, int) or keep < 1:
            problems.append(
                f"{here}.inputParameters.keepLastN{at}: {keep!r} is not a whole number above 0"
            )


def _check_fork_dynamic(
    step: WorkflowTask, here: str, at: str, problems: list[str], lenient: list[str]
) -> None:
    params = step.inputParameters
    if "forkTaskInputs" in params:
        return  # without forkTaskName, Conductor names the branches after the fork itself
    if not step.dynamicForkTasksParam or not step.dynamicForkTasksInputParamName:
        problems.append(
            f"{here}.dynamicForkTasksParam{at}: a FORK_JOIN_DYNAMIC needs dynamicForkTasksParam "
            "and dynamicForkTasksInputParamName, or the input forkTaskInputs"
        )
        return
    for field in ("dynamicForkTasksParam", "dynamicForkTasksInputParamName"):
        name = getattr(step, field)
        if name not in params:
            lenient.append(
                f"{here}.inputParameters{at}: {field} names input '{name}', "
                "which inputParameters does not have; the fork fails when it runs"
                f"{did_you_mean(name, params)}"
            )


def _check_dynamic(
    step: WorkflowTask, here: str, at: str, problems: list[str], lenient: list[str]
) -> None:
    name = step.dynamicTaskNameParam
    if not name:
        problems.append(
            f"{here}.dynamicTaskNameParam{at}: a DYNAMIC task needs dynamicTaskNameParam"
        )
    elif name not in step.inputParameters:
        # Conductor registers it; the run fails when the task is reached.
        lenient.append(
            f"{here}.inputParameters{at}: dynamicTaskNameParam names input '{name}', "
            "which inputParameters does not have; the run fails when it reaches this task"
            f"{did_you_mean(name, step.inputParameters)}"
        )


def _check_inline(
    step: WorkflowTask, here: str, at: str, problems: list[str], lenient: list[str]
) -> None:
    # Conductor checks nothing of an INLINE task at registration: it fails when it runs.
    params = step.inputParameters
    evaluator = params.get("evaluatorType")
    expression = params.get("expression")
    literal = isinstance(evaluator, str) and "${" not in evaluator
    if evaluator is None or (literal and str(evaluator).lower() not in _EVALUATORS):
        lenient.append(
            f"{here}.inputParameters.evaluatorType{at}: '{evaluator}' is not one of "
            f"{', '.join(sorted(_EVALUATORS))}; the step fails when it runs"
        )
    if not isinstance(expression, str) or not expression:
        lenient.append(
            f"{here}.inputParameters.expression{at}: an INLINE task needs an expression; "
            "the step fails when it runs"
        )
    elif literal and str(evaluator).lower() in evaluators.JAVASCRIPT and "${" not in expression:
        _check_javascript(expression, f"{here}.inputParameters.expression{at}", lenient, warn=True)


def _check_lambda(
    step: WorkflowTask, here: str, at: str, problems: list[str], lenient: list[str]
) -> None:
    script = step.inputParameters.get("scriptExpression")
    where = f"{here}.inputParameters.scriptExpression{at}"
    if not isinstance(script, str) or not script.strip():
        problems.append(f"{where}: a LAMBDA task needs a scriptExpression")
    elif "${" not in script:  # Conductor compiles it only when the step runs
        _check_javascript(script, where, lenient, warn=True)


def _check_jq(
    step: WorkflowTask, here: str, at: str, problems: list[str], lenient: list[str]
) -> None:
    query = step.inputParameters.get("queryExpression")
    if "queryExpression" not in step.inputParameters:
        problems.append(
            f"{here}.inputParameters.queryExpression{at}: a JSON_JQ_TRANSFORM needs a queryExpression"
        )
    elif not isinstance(query, str) or not query:
        # Conductor only looks for the key; an empty or non-text query fails when it runs.
        lenient.append(
            f"{here}.inputParameters.queryExpression{at}: {query!r} is no jq query; "
            "the step fails when it runs"
        )


def _check_start_workflow(
    step: WorkflowTask, here: str, at: str, problems: list[str], lenient: list[str]
) -> None:
    request = step.inputParameters.get("startWorkflow")
    if isinstance(request, str) and "${" in request:
        return  # the whole request comes from an expression
    name = request.get("name") if isinstance(request, dict) else None
    if not isinstance(name, str) or not name:
        # Conductor checks the request only when the task runs.
        lenient.append(
            f"{here}.inputParameters.startWorkflow.name{at}: a START_WORKFLOW needs the name "
            "of the workflow to start; the step fails when it runs"
        )


_CHECKS = {
    TaskType.DECISION: _check_decision,
    TaskType.DO_WHILE: _check_do_while,
    TaskType.FORK_JOIN_DYNAMIC: _check_fork_dynamic,
    TaskType.DYNAMIC: _check_dynamic,
    TaskType.INLINE: _check_inline,
    TaskType.JSON_JQ_TRANSFORM: _check_jq,
    TaskType.LAMBDA: _check_lambda,
    TaskType.START_WORKFLOW: _check_start_workflow,
    TaskType.ROUTING_SLIP: _check_routing_slip,
}


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
    looped: set[str],
    problems: list[str],
    lenient: list[str],
    *,
    unknown_refused: bool,
) -> None:
    """A reference to an unknown task goes to ``problems`` if ``unknown_refused`` (where
    Conductor checks it), else to ``lenient``; what Conductor never checks, such as the field
    a reference reads, to ``lenient``."""
    owner = f" (task '{step.taskReferenceName}')" if step else ""
    try:
        found = expressions.references(template)
    except expressions.ExpressionError as exc:
        where = f"{path}.{exc.field}" if exc.field else path
        (problems if unknown_refused else lenient).append(f"{where}{owner}: {exc.message}")
        return
    for reference in found:
        head = expressions.reference_head(reference)
        if head is None:
            continue  # a scan of the whole context names no task
        root, rest = head
        if root == "workflow":
            continue
        if reference.strip() == _TASK_ID_PARAMETER and step is not None:
            continue  # the id of the task ``step`` schedules
        if reference.strip() in _SYSTEM_PARAMETERS:
            lenient.append(
                f"{path}{owner}: '${{{reference}}}' is a Conductor system parameter, which "
                "Podium does not provide; it resolves to null"
            )
            continue
        if root not in refs and ITERATION_SUFFIX.sub("", root) in looped:
            root = ITERATION_SUFFIX.sub("", root)  # one iteration's task: ``${ref__2.output}``
        if root not in refs:
            (problems if unknown_refused else lenient).append(
                f"{path}{owner}: '${{{reference}}}' refers to '{root}', which is no task "
                "reference name in this workflow"
                + ("" if unknown_refused else "; it resolves to null")
                + did_you_mean(root, refs)
            )
            continue
        if rest and rest != "*" and rest not in TASK_FIELDS:
            lenient.append(
                f"{path}{owner}: '${{{reference}}}' reads '{rest}' of task '{root}', which "
                f"resolves to null: a task has no such field{did_you_mean(rest, TASK_FIELDS)}"
            )

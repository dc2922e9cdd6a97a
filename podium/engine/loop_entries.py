"""A DO_WHILE's per-iteration outputs, stored once: in the iteration's own tasks.

A DO_WHILE's output holds, keyed by iteration number, each body task's output under its
definition reference name (Conductor's shape, which everything that reads the output sees).
Those entries are the body tasks' outputs again, so storing them in the loop's row as well
would write every earlier iteration's outputs once more at each iteration: a long loop's steps
would grow slower as it runs. The loop's row keeps its output without them, and the span of
iterations they covered; loading the run assembles them again from the tasks, as the loop
recorded them (``do_while.check_loop``): the latest attempt of each task of the iteration, in
order, by definition reference name.
"""

from __future__ import annotations

from itertools import islice
from typing import Any

from podium.engine.task_state import TaskState

__all__ = ["SPAN", "LoopOutput", "stored_form", "tasks_from", "with_entry"]

SPAN = "loop_entries"
"""The key, beside the task's fields in its stored form, of ``[first, last]``: the iterations
whose entries the loop's output held and its tasks hold again."""

_LoopKey = tuple[tuple[str, ...], tuple[int, ...]]
"""One loop's instance in a run: the loops it is inside and its own, and their iterations."""


class LoopOutput(dict[str, Any]):
    """A DO_WHILE's output as ``with_entry`` made it, knowing the span of its entries.

    Checking the output's shape by its keys costs a pass over every iteration's key, at every
    write of the loop: in a loop of ten thousand iterations, more than the rest of a step's
    growth together. The span is carried instead, and trusted only while the dict's length
    still matches it (an entry added or dropped by other code shows there); any other dict,
    such as one assembled on load or filtered by ``keepLastN``, is checked by its keys.
    """

    __slots__ = ("span",)

    span: tuple[int, int] | None


def with_entry(output: dict[str, Any], iteration: int, entry: dict[str, Any]) -> LoopOutput:
    """A copy of a DO_WHILE's ``output`` with ``entry`` for ``iteration``, and that number
    as its ``iteration``; ``output`` itself, which run states may share, is not changed."""
    before = _known_span(output)
    if before is None and len(output) > 1:
        before = _checked_span(output)
    key = str(iteration)
    new = LoopOutput(output)
    known = key in new
    new[key] = entry
    new["iteration"] = iteration
    if known or "iteration" not in output or next(iter(output)) != "iteration":
        new.span = None  # not the loop's own shape: the keys are checked when written
    elif before is None:
        new.span = (iteration, iteration) if len(output) == 1 else None
    else:
        new.span = (before[0], iteration) if before[1] == iteration - 1 else None
    return new


def stored_form(task: TaskState) -> TaskState | dict[str, Any]:
    """What to store of ``task``: a DO_WHILE's without the entries its tasks hold again."""
    span = _span(task)
    if span is None:
        return task
    data = task.to_dict()
    data["output"] = {"iteration": task.output["iteration"]}
    data[SPAN] = list(span)
    return data


def tasks_from(stored: list[dict[str, Any]]) -> list[TaskState]:
    """The tasks of a run from their stored forms, in order, loops' outputs made whole."""
    tasks: list[TaskState] = []
    spans: dict[str, tuple[int, int]] = {}
    for data in stored:
        span = data.pop(SPAN, None)
        task = TaskState.from_dict(data)
        if span is not None:
            spans[task.task_id] = (int(span[0]), int(span[1]))
        tasks.append(task)
    if spans:
        _assemble(tasks, spans)
    return tasks


def _span(task: TaskState) -> tuple[int, int] | None:
    """The iterations of a DO_WHILE's entries, if its output is of the shape the loop gives
    it: ``iteration`` first, then one entry per iteration in order, none missing.

    The keys are checked, not the entries: only ``do_while.check_loop`` writes them, each the
    outputs of its iteration's tasks.
    """
    if task.type != "DO_WHILE":
        return None
    output = task.output
    known = _known_span(output)
    return known if known is not None else _checked_span(output)


def _known_span(output: dict[str, Any]) -> tuple[int, int] | None:
    if type(output) is not LoopOutput:
        return None
    span: tuple[int, int] | None = getattr(output, "span", None)  # unset in a bare copy
    if span is None or len(output) != span[1] - span[0] + 2:
        return None
    return span


def _checked_span(output: dict[str, Any]) -> tuple[int, int] | None:
    """The span of ``output``'s entries, from its keys: a pass over them all."""
    if len(output) < 2:
        return None
    keys = iter(output)
    if next(keys) != "iteration":
        return None
    first, last = next(keys), next(reversed(output))
    if not (first.isdigit() and last.isdigit()):
        return None
    low, high = int(first), int(last)
    if str(low) != first or str(high) != last or high - low + 2 != len(output):
        return None
    # Unique keys, all digits, as many as the iterations from ``low`` to ``high``: those.
    if not "".join(islice(output, 1, None)).isdigit():
        return None
    return low, high


def _loop_key(loop: TaskState) -> _LoopKey:
    return (*loop.scope_loops, loop.def_ref), tuple(loop.scope_iterations)


def _assemble(tasks: list[TaskState], spans: dict[str, tuple[int, int]]) -> None:
    """Give each loop in ``spans`` its entries again, from one pass over the run's tasks."""
    loops = [task for task in tasks if task.task_id in spans]
    wanted = {_loop_key(loop) for loop in loops}
    entries: dict[_LoopKey, dict[int, dict[str, Any]]] = {key: {} for key in wanted}
    for task in tasks:
        if not task.is_latest:
            continue
        scope, iterations = task.scope_loops, task.scope_iterations
        for depth in range(len(scope)):
            key = (tuple(scope[: depth + 1]), tuple(iterations[:depth]))
            found = entries.get(key)
            if found is not None:
                found.setdefault(iterations[depth], {})[task.def_ref] = task.output
    for loop in loops:
        first, last = spans[loop.task_id]
        found = entries[_loop_key(loop)]
        output: dict[str, Any] = {"iteration": loop.output.get("iteration")}
        for n in range(first, last + 1):
            output[str(n)] = found.get(n, {})
        loop.output = output

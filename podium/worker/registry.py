"""``@worker_task``: turns a plain function into a handler for one task type."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import sys
import typing
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar, overload

from podium.worker.task import Task

__all__ = [
    "DEFAULT_CONCURRENCY",
    "DEFAULT_POLL_TIMEOUT_MS",
    "WorkerTaskSpec",
    "load_tasks",
    "registered_tasks",
    "spec_for",
    "worker_task",
]

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_CONCURRENCY = 1
"""Handlers run one task at a time unless told otherwise, as Conductor's ``thread_count=1``."""
DEFAULT_POLL_TIMEOUT_MS = 1000
"""How long the server may hold a poll open. The poll returns as soon as a task is queued, so
this only bounds idle traffic (one request a second per type) and how long shutdown waits."""

_SPEC_ATTR = "__podium_task__"


def _task_params(func: Callable[..., Any]) -> frozenset[str]:
    """Names of the parameters annotated ``Task``: they get the whole task, not an input field."""
    try:
        hints = typing.get_type_hints(func)
    except Exception:
        # Forward references that cannot be resolved (a name imported under TYPE_CHECKING):
        # fall back to the annotation's text, which is what the user wrote.
        hints = {}
    found: set[str] = set()
    for name, param in inspect.signature(func).parameters.items():
        hint = hints.get(name, param.annotation)
        if hint is Task:
            found.add(name)
        elif isinstance(hint, str) and hint.rsplit(".", 1)[-1] == "Task":
            found.add(name)
    return frozenset(found)


@dataclass(frozen=True, slots=True)
class WorkerTaskSpec:
    """A handler and how to run it: which task type, how many at once, how long to poll."""

    name: str
    func: Callable[..., Any]
    concurrency: int = DEFAULT_CONCURRENCY
    poll_timeout_ms: int = DEFAULT_POLL_TIMEOUT_MS
    task_params: frozenset[str] = frozenset()
    params: tuple[inspect.Parameter, ...] = ()
    domain: str | None = None
    """The task domain polled (Conductor's ``domain``): only tasks a run's ``taskToDomain``
    put there; None polls the type's own queue."""

    @classmethod
    def of(
        cls,
        func: Callable[..., Any],
        name: str | None = None,
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        poll_timeout_ms: int = DEFAULT_POLL_TIMEOUT_MS,
        domain: str | None = None,
    ) -> WorkerTaskSpec:
        """Inspect ``func`` once, so that each task does not pay for ``inspect`` again."""
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, not {concurrency}")
        if poll_timeout_ms < 0:
            raise ValueError(f"poll_timeout_ms must not be negative, not {poll_timeout_ms}")
        return cls(
            name=name or func.__name__,
            func=func,
            concurrency=concurrency,
            poll_timeout_ms=poll_timeout_ms,
            task_params=_task_params(func),
            params=tuple(inspect.signature(func).parameters.values()),
            domain=domain or None,
        )

    @property
    def is_async(self) -> bool:
        """True for ``async def`` handlers, which run on the event loop instead of a thread."""
        return inspect.iscoroutinefunction(self.func)

    @property
    def module(self) -> str:
        """The module that defines the handler, used to pick a module's handlers in the CLI."""
        return str(getattr(self.func, "__module__", ""))

    def arguments(self, task: Task) -> tuple[list[Any], dict[str, Any]]:
        """Positional and keyword arguments for ``func``, filled by name from the task input.

        Missing inputs take the parameter's default, or None when it has none (as Conductor's
        SDK does), so that a workflow that omits an optional field still runs the handler.
        """
        args: list[Any] = []
        kwargs: dict[str, Any] = {}
        used: set[str] = set()
        params = self.params
        for param in params:
            if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
                continue
            if param.name in self.task_params:
                value: Any = task
            elif param.name in task.input:
                value = task.input[param.name]
                used.add(param.name)
            elif param.default is not param.empty:
                if param.kind is not param.POSITIONAL_ONLY:
                    continue  # let Python apply the default
                value = param.default  # keep later positional arguments in their places
            else:
                value = None
            if param.kind is param.POSITIONAL_ONLY:
                args.append(value)
            else:
                kwargs[param.name] = value
        if any(p.kind is p.VAR_KEYWORD for p in params):
            # ``**rest`` takes the inputs no named parameter asked for.
            kwargs.update({k: v for k, v in task.input.items() if k not in used})
        return args, kwargs


# Keyed by the function's module and qualified name, so that re-importing a module (as test
# runners and reloaders do) replaces its handlers instead of registering them twice.
_registry: dict[tuple[str, str], WorkerTaskSpec] = {}


@overload
def worker_task(task_type: F, /) -> F: ...


@overload
def worker_task(
    task_type: str | None = None,
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    poll_timeout_ms: int = DEFAULT_POLL_TIMEOUT_MS,
    domain: str | None = None,
) -> Callable[[F], F]: ...


def worker_task(
    task_type: str | Callable[..., Any] | None = None,
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    poll_timeout_ms: int = DEFAULT_POLL_TIMEOUT_MS,
    domain: str | None = None,
) -> Any:
    """Register a function (sync or ``async``) as the handler of ``task_type``.

    The function is returned unchanged, so it can still be called directly in tests::

        @worker_task("reserve_inventory", concurrency=4)
        def reserve(sku: str, quantity: int = 1) -> dict[str, object]:
            return {"reserved": quantity}

    ``task_type`` defaults to the function's name; ``@worker_task`` without parentheses works.
    With ``domain`` the handler polls that task domain only (see docs/conductor.md).
    """

    def register(func: F) -> F:
        spec = WorkerTaskSpec.of(
            func,
            task_type if isinstance(task_type, str) else None,
            concurrency=concurrency,
            poll_timeout_ms=poll_timeout_ms,
            domain=domain,
        )
        _registry[(spec.module, func.__qualname__)] = spec
        setattr(func, _SPEC_ATTR, spec)
        return func

    if callable(task_type):
        return register(task_type)
    return register


def registered_tasks(module: str | None = None) -> list[WorkerTaskSpec]:
    """Every handler registered with ``@worker_task`` (only ``module``'s, if given)."""
    return [s for s in _registry.values() if module is None or s.module == module]


def spec_for(obj: WorkerTaskSpec | Callable[..., Any]) -> WorkerTaskSpec:
    """The spec of a decorated function; a plain function handles the task named after it."""
    if isinstance(obj, WorkerTaskSpec):
        return obj
    spec = getattr(obj, _SPEC_ATTR, None)
    if isinstance(spec, WorkerTaskSpec):
        return spec
    if not callable(obj):
        raise TypeError(f"{obj!r} is neither a function nor a WorkerTaskSpec")
    return WorkerTaskSpec.of(obj)


def _import_file(path: Path) -> ModuleType:
    """The module in the file ``path`` (``greeter.py``), imported as ``python greeter.py``
    would see it: named after the file, its directory first on ``sys.path`` for its imports."""
    if not path.is_file():
        raise ImportError(f"no file {path}")
    folder = str(path.resolve().parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"{path} is not a Python file")
    module = importlib.util.module_from_spec(spec)
    # Registered before it runs, as ``import`` does: dataclasses and pickling look it up.
    sys.modules[path.stem] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[path.stem]
        raise
    return module


def load_tasks(target: str) -> list[WorkerTaskSpec]:
    """Handlers named by ``"module:function"``, or every registered one of ``"module"``.

    The module may also be a file, ``greeter.py`` or ``workers/greeter.py:hello``.
    Raises ``LookupError`` with a message that says what was looked for.
    """
    module_name, _, attr = target.partition(":")
    if module_name.endswith(".py"):
        module = _import_file(Path(module_name))
        module_name = module.__name__
    else:
        module = importlib.import_module(module_name)
    if attr:
        obj: Any = module
        for part in attr.split("."):
            try:
                obj = getattr(obj, part)
            except AttributeError:
                raise LookupError(f"module {module_name!r} has no attribute {attr!r}") from None
        if not callable(obj) and not isinstance(obj, WorkerTaskSpec):
            raise LookupError(f"{target} is not a function")
        return [spec_for(obj)]
    specs = registered_tasks(module.__name__)
    if not specs:
        raise LookupError(
            f"module {module_name!r} registers no @worker_task function; "
            "name one with module:function"
        )
    return specs

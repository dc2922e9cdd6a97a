"""One error tree: every exception class Podium defines is a PodiumError, named in the tree
that podium.errors' docstring draws, save the two signals that never leave their module."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re

import podium
from podium import errors
from podium.errors import PodiumError

_SIGNALS = {"podium.server.result_batch._NotHeld", "podium.store.sqlite._RunNotWritten"}


def _exception_classes() -> dict[str, type[BaseException]]:
    found: dict[str, type[BaseException]] = {}
    for module_info in pkgutil.walk_packages(podium.__path__, "podium."):
        module = importlib.import_module(module_info.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, BaseException) and cls.__module__ == module.__name__:
                found[f"{cls.__module__}.{cls.__qualname__}"] = cls
    return found


def test_every_error_podium_defines_is_rooted_in_podium_error():
    classes = _exception_classes()
    assert len(classes) > 30
    outside = {name for name, cls in classes.items() if not issubclass(cls, PodiumError)}
    assert outside == _SIGNALS


def test_the_docstring_tree_names_every_error():
    tree = errors.__doc__ or ""
    for name, cls in _exception_classes().items():
        assert re.search(rf"(?<!\w){re.escape(cls.__name__)}(?!\w)", tree), name


def test_errors_that_must_stay_builtin_exceptions_still_are():
    from podium.server.http_targets import TargetRefusedError

    # The HTTP client reports a refused target as a failed connection only if it is an OSError.
    assert issubclass(TargetRefusedError, OSError)
    assert TargetRefusedError("no").message == "no"

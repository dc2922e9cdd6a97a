"""The rare JSONPath forms of a ``${...}`` reference: deep scans (``a.output..status``),
wildcards (``items[*].id``), filters (``items[?(@.price > 10)]``), slices and negative indexes.

Plain dotted paths never come here (``expressions`` follows them itself, which is much faster);
these are read with ``jsonpath-ng`` as Conductor reads them with Jayway JsonPath: a path that
can match many values (a scan, a wildcard, a filter, a slice, a union) gives the list of its
matches, possibly empty; any other gives its one value, or None.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from jsonpath_ng import JSONPath

__all__ = ["JsonPathRef", "compile_path"]

_CACHE_SIZE = 1024
# What only JSONPath has: ``..``, ``*``, a filter, a slice, a union, a negative index, ``$``.
# A path with none of these that the dotted parser refuses stays malformed (``a[x]``), as it is
# to Conductor, rather than read as jsonpath-ng's lenient ``a.x``.
_JSONPATH_ONLY = re.compile(r"\.\.|\*|\[\s*\?|\[[^\]'\"]*[:,]|\[\s*-\d|^\s*\$")
_INDEFINITE = re.compile(r"\.\.|\*|\[\s*\?|\[[^\]'\"]*[:,]")
_ROOT = re.compile(r"[^.\[\]$\s]+")


class JsonPathRef(NamedTuple):
    """A parsed JSONPath reference and how to read it against a run's context."""

    root: str | None  # the context key it starts from; None when it scans the whole context
    path: JSONPath
    many: bool  # whether it gives the list of its matches rather than one value

    def read(self, context: Mapping[str, Any]) -> Any:
        # Only the part of the context the path starts from is handed over, as a plain dict:
        # the context is a live view, and a scan should not build every task's entry.
        if self.root is None:
            document: Any = {key: context.get(key) for key in context}
        else:
            document = {self.root: context.get(self.root)}
        try:
            matches = [match.value for match in self.path.find(document)]
        except (TypeError, ValueError, KeyError, AttributeError):
            return [] if self.many else None  # e.g. a filter comparing a number with text
        if self.many:
            return matches
        return matches[0] if matches else None


@functools.lru_cache(maxsize=_CACHE_SIZE)
def compile_path(path: str) -> JsonPathRef | None:
    """``path`` as JSONPath, or None when it has no JSONPath-only form or does not parse."""
    if not _JSONPATH_ONLY.search(path):
        return None
    # Imported on first use: most definitions have no such path, and the parser is slow to load.
    from jsonpath_ng.exceptions import JSONPathError
    from jsonpath_ng.ext.parser import parse

    text = path.strip()
    body = text
    if text.startswith("$"):  # ``$.name`` starts from a context key; ``$..`` and ``$[`` do not
        body = text[2:] if text.startswith("$.") and not text.startswith("$..") else "*"
    try:
        parsed = parse(text)
    except (JSONPathError, ValueError, TypeError):
        return None
    root_match = _ROOT.match(body)
    root = None
    if root_match is not None and not body.startswith(("*", "[")):
        root = root_match.group()
    return JsonPathRef(root, parsed, bool(_INDEFINITE.search(text)))

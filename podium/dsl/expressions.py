"""Netflix Conductor parameter expressions: ``${workflow.input.x}``, ``${ref.output.items[0]}``.

A task's ``inputParameters`` are a JSON template. Every string in it may hold references of
the form ``${root.segment[index]...}``; :func:`resolve` replaces them with values from the run's
context:

* a string that is exactly one reference becomes the referenced value, its type kept;
* references inside other text are interpolated (``None`` as ``null``, numbers and booleans as
  JSON, dicts and lists as compact JSON);
* anything missing along the path gives ``None``, as in Conductor, never an exception;
* only the context is looked up: an unknown root such as ``${HOME}`` is ``None``, so the
  server's environment is never exposed;
* ``$${x}`` is an escape for the literal text ``${x}``.
* the rare JSONPath forms, a deep scan ``${ref.output..id}``, ``[*]``, a filter
  ``[?(@.price > 10)]``, a slice or a negative index, are read by :mod:`podium.dsl.jsonpaths`.

Resolution runs on every step, so parsed strings are cached and paths are split once.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

from podium.dsl import jsonpaths
from podium.errors import ValidationError

__all__ = [
    "ExpressionError",
    "reference_head",
    "reference_root",
    "reference_segments",
    "references",
    "rendered_parts",
    "resolve",
    "single_reference",
]

_TEMPLATE_CACHE_SIZE = 4096


class ExpressionError(ValidationError):
    """An expression is not valid or could not be evaluated."""

    code = "E_EXPRESSION"

    def __init__(
        self,
        message: str | None = None,
        *,
        service: str = "dsl",
        field: str | None = None,
        code: str | None = None,
        position: int | None = None,
    ) -> None:
        super().__init__(message, service=service, field=field, code=code)
        # The 0-based offset in the expression's source, for editors that underline it.
        self.position = position


Segment = str | int


class _Ref(NamedTuple):
    """One ``${...}`` reference, its path split once so that lookups do no parsing."""

    path: str
    segments: tuple[Segment, ...]  # empty when the path is not a plain dotted one
    jsonpath: jsonpaths.JsonPathRef | None = None  # the rare JSONPath forms (``..``, ``[*]``)

    @property
    def valid(self) -> bool:
        return bool(self.segments) or self.jsonpath is not None


class _Template(NamedTuple):
    """A parsed string: literal text and references, in order.

    ``single`` is set when the whole string is one reference, so that its value keeps its type.
    """

    parts: tuple[str | _Ref, ...]
    single: _Ref | None


# A path is a first segment followed by `.key`, `[n]`, `['key']` or `["key"]`. Keys may hold
# anything but the separators (Conductor task refs and JSON keys often contain `-`).
_SEGMENT_RE = re.compile(
    r"""
    \.(?P<dot>[^.\[\]]+)
    | \[(?P<index>\d+)\]
    | \['(?P<squote>[^']*)'\]
    | \["(?P<dquote>[^"]*)"\]
    """,
    re.VERBOSE,
)
_FIRST_RE = re.compile(r"[^.\[\]]+")
_ROOT_SPLIT_RE = re.compile(r"[.\[]")


def _split_path(path: str) -> tuple[Segment, ...]:
    """Split ``a.b[0]['c-d']`` into ``("a", "b", 0, "c-d")``; ``()`` if malformed."""
    first = _FIRST_RE.match(path)
    if first is None or first.group().strip() != first.group():
        return ()
    segments: list[Segment] = [first.group()]
    pos = first.end()
    while pos < len(path):
        match = _SEGMENT_RE.match(path, pos)
        if match is None:
            return ()
        if match.group("index") is not None:
            segments.append(int(match.group("index")))
        else:
            key = match.group("dot")
            if key is None:
                key = match.group("squote")
            if key is None:
                key = match.group("dquote")
            segments.append(key)
        pos = match.end()
    return tuple(segments)


@functools.lru_cache(maxsize=_TEMPLATE_CACHE_SIZE)
def _parse_template(text: str) -> _Template:
    parts: list[str | _Ref] = []
    literal: list[str] = []
    pos = 0
    length = len(text)
    while pos < length:
        dollar = text.find("$", pos)
        if dollar < 0:
            literal.append(text[pos:])
            break
        literal.append(text[pos:dollar])
        if text.startswith("$${", dollar):
            literal.append("${")
            pos = dollar + 3
        elif text.startswith("${", dollar):
            close = text.find("}", dollar + 2)
            if close < 0:
                # Unterminated: Conductor leaves the text alone, and so do we.
                literal.append(text[dollar:])
                break
            if literal:
                joined = "".join(literal)
                if joined:
                    parts.append(joined)
                literal = []
            path = text[dollar + 2 : close].strip()
            # ``$.`` starts a JSONPath at the context itself (``${$.workflow.input.x}``).
            segments = () if path.startswith("$") else _split_path(path)
            parts.append(_Ref(path, segments, None if segments else jsonpaths.compile_path(path)))
            pos = close + 1
        else:
            literal.append("$")
            pos = dollar + 1
    tail = "".join(literal)
    if tail:
        parts.append(tail)
    single = parts[0] if len(parts) == 1 and isinstance(parts[0], _Ref) else None
    return _Template(tuple(parts), single)


def _lookup(context: Mapping[str, Any], segments: tuple[Segment, ...]) -> Any:
    if not segments:
        return None
    root = segments[0]
    if not isinstance(root, str):
        return None
    current: Any = context.get(root)
    for segment in segments[1:]:
        if current is None:
            return None
        if type(segment) is int:
            # Strings are sequences too, but `[n]` on text is not a Conductor path.
            if type(current) is list or type(current) is tuple:
                current = current[segment] if segment < len(current) else None
            else:
                return None
        elif type(current) is dict:
            current = current.get(segment)
        elif isinstance(current, Mapping):
            current = current.get(segment)
        else:
            # Only dict keys and list indexes are followed, never attributes of objects.
            return None
    return current


def _value(context: Mapping[str, Any], ref: _Ref) -> Any:
    if ref.segments:
        return _lookup(context, ref.segments)
    if ref.jsonpath is not None:
        return ref.jsonpath.read(context)
    return None


def _to_text(value: Any) -> str:
    if type(value) is str:
        return value
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, dict, list, tuple)):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)
    if isinstance(value, Mapping):
        return json.dumps(dict(value), separators=(",", ":"), ensure_ascii=False, default=str)
    return str(value)


def _resolve_string(text: str, context: Mapping[str, Any]) -> Any:
    if "$" not in text:
        return text
    template = _parse_template(text)
    if template.single is not None:
        return _value(context, template.single)
    pieces: list[str] = []
    for part in template.parts:
        if type(part) is str:
            pieces.append(part)
        else:
            assert isinstance(part, _Ref)
            pieces.append(_to_text(_value(context, part)))
    return "".join(pieces)


def rendered_parts(text: str, context: Mapping[str, Any]) -> list[tuple[str, str | None]]:
    """The pieces ``text`` is interpolated from: each as text, with its reference path (None
    for literal text). Joined, they are what :func:`resolve` makes of a string holding more
    than one piece; a caller can tell from them which characters a given reference produced.

    ``rendered_parts("Bearer ${workflow.input.t}", ctx)`` gives
    ``[("Bearer ", None), ("abc", "workflow.input.t")]``.
    """
    pieces: list[tuple[str, str | None]] = []
    for part in _parse_template(text).parts:
        if type(part) is str:
            pieces.append((part, None))
        else:
            assert isinstance(part, _Ref)
            pieces.append((_to_text(_value(context, part)), part.path))
    return pieces


def resolve(template: Any, context: Mapping[str, Any]) -> Any:
    """Resolve every ``${...}`` reference in ``template`` against ``context``.

    Dicts, lists and tuples are walked recursively and rebuilt (tuples become lists, as in
    JSON); the template is never changed. Dict keys are not resolved. Values taken from the
    context are not copied: treat the result as read-only or copy it before changing it.
    Resolved values are not resolved again, so a value that itself holds ``${...}`` stays as
    it is.

    Args:
        template: a JSON-like value, usually a task's ``inputParameters``.
        context: ``{"workflow": {...}, "<taskRef>": {...}, ...}``.

    Returns:
        A new value with references replaced; missing paths give ``None``.
    """
    kind = type(template)
    if kind is str:
        return _resolve_string(template, context)
    if kind is dict:
        return {key: resolve(value, context) for key, value in template.items()}
    if kind is list or kind is tuple:
        return [resolve(item, context) for item in template]
    if isinstance(template, Mapping):
        return {key: resolve(value, context) for key, value in template.items()}
    return template


def _walk_strings(template: Any, where: str) -> Iterator[tuple[str, str]]:
    if isinstance(template, str):
        yield template, where
    elif isinstance(template, Mapping):
        for key, value in template.items():
            yield from _walk_strings(value, f"{where}.{key}" if where else str(key))
    elif isinstance(template, (list, tuple)):
        for index, item in enumerate(template):
            yield from _walk_strings(item, f"{where}[{index}]")


def references(template: Any) -> list[str]:
    """Every reference path in ``template``, in document order, duplicates kept.

    ``{"a": "${workflow.input.a}", "b": ["x ${ref.output.x[0].y}"]}`` gives
    ``["workflow.input.a", "ref.output.x[0].y"]``. Escaped ``$${...}`` text is not a reference.

    Raises:
        ExpressionError: a reference is malformed (``${}``, ``${a..}``, ``${a[x]}``); its
            ``field`` names where in the template it is, e.g. ``order.items[0]``.
    """
    found: list[str] = []
    for text, where in _walk_strings(template, ""):
        if "$" not in text:
            continue
        for part in _parse_template(text).parts:
            if isinstance(part, _Ref):
                if not part.valid:
                    raise ExpressionError(
                        f"malformed reference '${{{part.path}}}': expected a path such as "
                        "'${workflow.input.name}' or '${taskRef.output.items[0].id}'",
                        field=where or None,
                    )
                found.append(part.path)
    return found


def reference_segments(path: str) -> tuple[Segment, ...]:
    """A reference path split into keys and indexes: ``("ref", "output", "items", 0)``;
    ``()`` when the path is malformed."""
    return _split_path(path.strip())


def reference_root(path: str) -> str:
    """The first segment of a reference path: ``"workflow"`` or a task reference name.

    ``reference_root("ref.output.items[0]")`` is ``"ref"``.
    """
    return _ROOT_SPLIT_RE.split(path.strip(), maxsplit=1)[0]


def reference_head(path: str) -> tuple[str, str | None] | None:
    """The task (or ``workflow``) a reference path starts from and the field it reads of it:
    ``("ref", "output")`` for ``ref.output.x``, ``ref['output'][0]`` or the JSONPath
    ``$.ref.output..id``; the field is None when the path reads the whole root or scans below
    it (``ref..id``). None when the path starts from no one root (``$..id``, ``$[*]``).
    """
    text = path.strip()
    if text.startswith("$"):  # a JSONPath's ``$`` is the context itself
        if not text.startswith("$.") or text.startswith("$.."):
            return None
        text = text[2:]
    segments = _split_path(text)
    if segments:
        field = segments[1] if len(segments) > 1 else None
        return str(segments[0]), field if isinstance(field, str) else None
    # A JSONPath form (``[*]``, a filter, a scan): its root, and the key right after it.
    root = reference_root(text)
    match = _SEGMENT_RE.match(text, len(root))
    if match is None or match.group("index") is not None:
        return root, None
    key = match.group("dot")
    if key is None:
        key = match.group("squote")
    if key is None:
        key = match.group("dquote")
    return root, key


def single_reference(text: str) -> str | None:
    """The reference path of a string that is exactly one ``${...}``, which resolves to the
    referenced value with its type; None for any other string (text around it, none, several)."""
    if "${" not in text:
        return None
    single = _parse_template(text).single
    return single.path if single is not None else None

"""The numbered SQL migration files shipped with the package, one folder per backend.

A migration is applied once, in order, and recorded in ``schema_migrations``; files are never
edited after release, only added, so every database walks the same path to the same schema.
A number means the same change on both backends: where one backend needs nothing (its
initial schema already had it, or the setting does not exist there) its file is a comment.
"""

from __future__ import annotations

import re
from importlib import resources

__all__ = ["migrations", "statements"]

# A dollar quote's tag is empty or an identifier; ``$1`` (a parameter) opens nothing.
_DOLLAR_TAG = re.compile(r"\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$")


def migrations(backend: str) -> list[tuple[int, str]]:
    """``(version, sql)`` of every migration for ``backend`` ("sqlite" or "postgres"), in order."""
    folder = resources.files("podium.store") / "sql" / backend
    found: list[tuple[int, str]] = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            found.append((int(entry.name.split("_", 1)[0]), entry.read_text()))
    return sorted(found)


def statements(sql: str) -> list[str]:
    """The statements of a migration file, split on the semicolons that end them.

    A semicolon or comment marker inside a quoted string (``'…'``, ``E'…'``), a quoted
    identifier (``"…"``) or a dollar-quoted body (``$$…$$``, ``$tag$…$tag$``, as in a function
    body) is text, not syntax. Comments (``--`` to the end of the line, ``/* … */``, nested
    as PostgreSQL allows) are dropped.
    """
    found: list[str] = []
    current: list[str] = []
    i, n = 0, len(sql)
    while i < n:
        char = sql[i]
        if char == "'" or char == '"':
            end = _quoted_end(sql, i, escapes=char == "'" and _escape_string(sql, i))
            current.append(sql[i:end])
            i = end
        elif char == "$" and (tag := _DOLLAR_TAG.match(sql, i)) and not _in_word(sql, i):
            close = sql.find(tag.group(), tag.end())
            end = n if close < 0 else close + len(tag.group())
            current.append(sql[i:end])
            i = end
        elif sql.startswith("--", i):
            newline = sql.find("\n", i)
            i = n if newline < 0 else newline
        elif sql.startswith("/*", i):
            i = _block_comment_end(sql, i)
            current.append(" ")  # a comment separates the words either side of it
        elif char == ";":
            found.append("".join(current))
            current = []
            i += 1
        else:
            current.append(char)
            i += 1
    found.append("".join(current))
    return [statement.strip() for statement in found if statement.strip()]


def _quoted_end(sql: str, start: int, *, escapes: bool) -> int:
    """Just past the quote that closes the one at ``start`` (a doubled quote is one quote
    inside; in an ``E'…'`` string a backslash escapes the next character too)."""
    quote = sql[start]
    i = start + 1
    while i < len(sql):
        char = sql[i]
        if escapes and char == "\\":
            i += 2
        elif char == quote:
            if sql.startswith(quote, i + 1):
                i += 2
            else:
                return i + 1
        else:
            i += 1
    return len(sql)


def _escape_string(sql: str, quote: int) -> bool:
    """Whether the string opening at ``quote`` is an ``E'…'`` (escape) string."""
    return quote > 0 and sql[quote - 1] in "Ee" and not _in_word(sql, quote - 1)


def _in_word(sql: str, at: int) -> bool:
    """Whether ``sql[at]`` continues a word (``a$b$`` is an identifier, not a quote)."""
    return at > 0 and (sql[at - 1].isalnum() or sql[at - 1] in "_$")


def _block_comment_end(sql: str, start: int) -> int:
    depth, i = 0, start
    while i < len(sql):
        if sql.startswith("/*", i):
            depth += 1
            i += 2
        elif sql.startswith("*/", i):
            depth -= 1
            i += 2
            if depth == 0:
                return i
        else:
            i += 1
    return len(sql)

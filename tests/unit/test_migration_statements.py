"""``migrations.statements``: a migration file split into statements, quoting respected."""

from __future__ import annotations

import re

import pytest

from podium.store.migrations import migrations, statements


def test_splits_on_semicolons_and_drops_empty_statements():
    assert statements("CREATE TABLE a (x INT);\n\n;CREATE TABLE b (y INT)  ;  ") == [
        "CREATE TABLE a (x INT)",
        "CREATE TABLE b (y INT)",
    ]


def test_a_semicolon_in_a_string_is_text():
    assert statements("INSERT INTO t VALUES ('a;b');SELECT 1;") == [
        "INSERT INTO t VALUES ('a;b')",
        "SELECT 1",
    ]


def test_a_doubled_quote_stays_inside_the_string():
    assert statements("INSERT INTO t VALUES ('it''s; fine');SELECT 2") == [
        "INSERT INTO t VALUES ('it''s; fine')",
        "SELECT 2",
    ]


def test_a_backslash_escapes_a_quote_only_in_an_escape_string():
    assert statements(r"SELECT E'a\';b';SELECT 'c\';SELECT 3") == [
        r"SELECT E'a\';b'",
        r"SELECT 'c\'",
        "SELECT 3",
    ]


def test_a_semicolon_in_a_quoted_identifier_is_text():
    assert statements('CREATE TABLE "odd;name" ("x--y" INT);SELECT 4') == [
        'CREATE TABLE "odd;name" ("x--y" INT)',
        "SELECT 4",
    ]


def test_a_dollar_quoted_body_is_one_statement():
    body = (
        "CREATE FUNCTION f() RETURNS trigger AS $$\nBEGIN\n  NEW.x := 1; -- kept\n"
        "  RETURN NEW;\nEND;\n$$ LANGUAGE plpgsql"
    )
    assert statements(body + ";\nSELECT 5;") == [body, "SELECT 5"]


def test_a_tagged_dollar_quote_ends_only_at_its_own_tag():
    body = "DO $body$ BEGIN PERFORM $$x;y$$; PERFORM 'z'; END $body$"
    assert statements(body + "; SELECT 6") == [body, "SELECT 6"]


def test_a_parameter_is_not_a_dollar_quote():
    assert statements("PREPARE p AS SELECT $1; SELECT 7") == ["PREPARE p AS SELECT $1", "SELECT 7"]


def test_line_comments_are_dropped_outside_strings_only():
    sql = (
        "-- a table; with a semicolon\nCREATE TABLE a (x TEXT DEFAULT '--not a comment'); -- end\n"
    )
    assert statements(sql) == ["CREATE TABLE a (x TEXT DEFAULT '--not a comment')"]


def test_block_comments_are_dropped_even_nested_and_across_lines():
    sql = "SELECT /* one; /* nested; */ still; */ 8;/* trailing;\n comment */"
    assert statements(sql) == ["SELECT   8"]


def test_block_comment_markers_in_strings_are_text():
    assert statements("SELECT '/* no; */';SELECT 9") == ["SELECT '/* no; */'", "SELECT 9"]


def test_a_file_of_comments_has_no_statements():
    assert statements("-- nothing to do here;\n/* really; */\n") == []


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_every_shipped_migration_splits_as_the_line_based_splitter_did(backend):
    # The shipped files have no quoted semicolons or comment markers: the careful splitter
    # must find exactly the statements the line-based one did (up to whitespace).
    def line_based(sql: str) -> list[str]:
        code = "\n".join(line.split("--", 1)[0] for line in sql.splitlines())
        return [part.strip() for part in code.split(";") if part.strip()]

    def squeeze(parts: list[str]) -> list[str]:
        return [re.sub(r"\s+", " ", part) for part in parts]

    for _, sql in migrations(backend):
        assert squeeze(statements(sql)) == squeeze(line_based(sql))

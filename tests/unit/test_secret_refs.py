"""The engine's note of where a definition's HTTP template put secret references."""

from __future__ import annotations

import pytest

from podium.dsl import expressions
from podium.engine.secret_refs import literal_origin, secret_note
from podium.server.secrets import MissingSecretError, SecretResolver

REF = "${workflow.secrets.TOKEN}"


def _context(**data):
    from podium.engine.context import expression_context
    from podium.engine.state import RunState, RunStatus

    state = RunState("r1", "flow", 1, RunStatus.RUNNING, 0, input=data)
    return expression_context(state)


def _note(request, **data):
    template = {"http_request": request}
    context = _context(**data)
    return secret_note(template, expressions.resolve(template, context), context)


def test_only_the_templates_own_references_are_noted():
    note = _note(
        {
            "uri": "https://api.example.com/x?key=${workflow.secrets.KEY}",
            "headers": {"Authorization": "Bearer " + REF + " ${workflow.input.n}", "X": "y"},
            "body": {"items": ["${workflow.input.n}", REF]},
        },
        n=REF,  # data holding the same text is never noted
    )
    assert note == {
        "origin": "https://api.example.com:443",
        "at": [
            {"path": ["http_request", "uri"], "spans": [[30, 53, "KEY"]]},
            {"path": ["http_request", "headers", "Authorization"], "spans": [[7, 32, "TOKEN"]]},
            {"path": ["http_request", "body", "items", 1], "spans": [[0, 25, "TOKEN"]]},
        ],
    }


def test_a_template_without_secrets_leaves_no_note():
    assert _note({"uri": "${workflow.input.url}", "headers": {"A": "${workflow.input.n}"}}) is None
    assert secret_note({"http_request": "${workflow.input.req}"}, {}, _context()) is None


@pytest.mark.parametrize(
    "reference", ["${workflow.secrets['TOKEN']}", '${workflow.secrets["TOKEN"]}']
)
def test_a_bracketed_secret_name_is_noted_as_the_dotted_one_is(reference):
    note = _note({"uri": "http://h/", "headers": {"A": reference}})
    assert note is not None
    assert note["at"] == [{"path": ["http_request", "headers", "A"], "spans": [[0, 25, "TOKEN"]]}]
    assert _note({"uri": "http://h/", "headers": {"A": "${workflow.secrets['TO KEN']}"}}) is None


def test_where_data_comes_before_the_offsets_still_point_at_the_reference():
    note = _note({"uri": "http://h/", "headers": {"A": "${workflow.input.n}:" + REF}}, n="abcd")
    assert note is not None
    assert note["at"] == [{"path": ["http_request", "headers", "A"], "spans": [[5, 30, "TOKEN"]]}]


@pytest.mark.parametrize(
    ("uri", "origin"),
    [
        ("https://api.example.com/v1/${workflow.input.id}", "https://api.example.com:443"),
        ("http://API.example.com:8080?q=${workflow.input.q}", "http://api.example.com:8080"),
        ("http://[::1]:9000/x", "http://::1:9000"),
        # Secrets may stand for the user and password, never for the host.
        ("https://${workflow.secrets.U}:${workflow.secrets.P}@h.example/", "https://h.example:443"),
        ("${workflow.input.url}", None),
        ("${workflow.input.base}/charge", None),
        ("https://${workflow.input.host}/charge", None),
        ("https://api.example.com${workflow.input.path}", None),
        ("https://${workflow.input.user}@api.example.com/", None),
        ("https://api.example.com\\${workflow.input.path}", None),
        ("ftp://files.example.com/", None),
        ("https://${workflow.secrets.HOST}/", None),
    ],
)
def test_the_origin_is_noted_only_when_the_template_writes_the_host(uri, origin):
    assert literal_origin(uri, _context()) == origin


def test_secrets_are_put_in_only_where_noted():
    env = {"PODIUM_SECRET_TOKEN": "v4lue"}
    spec = {"uri": "http://h/", "headers": {"A": "Bearer " + REF, "B": REF}, "body": [REF]}
    note = {
        "origin": "http://h:80",
        "at": [{"path": ["http_request", "headers", "A"], "spans": [[7, 32, "TOKEN"]]}],
    }
    filled = SecretResolver(env=env).fill(spec, note)
    assert filled.headers == {"A": "Bearer v4lue", "B": REF}
    assert filled.body == [REF] and filled.uri == "http://h/"
    assert (filled.names, filled.secret_headers, filled.body_has_secret) == (
        ("TOKEN",),
        frozenset({"a"}),
        False,
    )
    assert spec["headers"]["A"] == "Bearer " + REF  # the task's input is left as it was
    assert SecretResolver(env=env).fill(spec, None).headers == spec["headers"]


def test_a_note_that_does_not_match_the_input_puts_nothing_in():
    spec = {"uri": "http://h/", "headers": {"A": "Bearer xx" + REF}}
    note = {"at": [{"path": ["http_request", "headers", "A"], "spans": [[7, 32, "TOKEN"]]}]}
    filled = SecretResolver(env={"PODIUM_SECRET_TOKEN": "v"}).fill(spec, note)
    assert filled.headers == spec["headers"] and filled.names == ()


def test_a_missing_secret_names_it_and_where_to_set_it():
    note = {"at": [{"path": ["http_request", "uri"], "spans": [[9, 34, "TOKEN"]]}]}
    with pytest.raises(MissingSecretError, match="PODIUM_SECRET_TOKEN"):
        SecretResolver(env={}).fill({"uri": "http://h/" + REF}, note)


def test_a_flat_form_template_is_noted_without_the_http_request_segment():
    template = {"uri": "http://h/", "headers": {"A": "Bearer " + REF}, "note": REF}
    context = _context()
    note = secret_note(template, expressions.resolve(template, context), context)
    assert note == {
        "origin": "http://h:80",
        "at": [{"path": ["headers", "A"], "spans": [[7, 32, "TOKEN"]]}],
    }


def test_the_form_the_input_resolves_to_picks_the_templates_part():
    # http_request resolves to null: the executor sends the flat keys, so they are noted.
    template = {"http_request": "${workflow.input.none}", "uri": "http://h/" + REF}
    context = _context()
    note = secret_note(template, expressions.resolve(template, context), context)
    assert note is not None
    assert note["at"] == [{"path": ["uri"], "spans": [[9, 34, "TOKEN"]]}]


def test_a_spot_noted_for_one_form_is_not_filled_in_the_other():
    env = {"PODIUM_SECRET_TOKEN": "v4lue"}
    spec = {"uri": "http://h/", "headers": {"A": "Bearer " + REF}}
    nested = {"at": [{"path": ["http_request", "headers", "A"], "spans": [[7, 32, "TOKEN"]]}]}
    flat = {"at": [{"path": ["headers", "A"], "spans": [[7, 32, "TOKEN"]]}]}
    resolver = SecretResolver(env=env)
    assert resolver.fill(spec, nested, ()).headers == spec["headers"]
    assert resolver.fill(spec, flat).headers == spec["headers"]
    assert resolver.fill(spec, flat, ()).headers == {"A": "Bearer v4lue"}
    assert resolver.fill(spec, nested).headers == {"A": "Bearer v4lue"}

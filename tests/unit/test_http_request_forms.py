"""Which request an HTTP task's input holds: ``http_request``, or the input in the flat form."""

from __future__ import annotations

import pytest

from podium.dsl.http_request import flat_keys_beside, request_of
from podium.dsl.models import WorkflowDef
from podium.dsl.validation import validate_workflow
from podium.engine.timing import http_lease_s
from podium.errors import DefinitionError


def test_http_request_is_the_request_and_flat_keys_beside_it_are_ignored():
    inputs = {"http_request": {"uri": "http://a/"}, "uri": "http://b/", "method": "POST"}
    assert request_of(inputs) == ({"uri": "http://a/"}, ("http_request",))
    assert flat_keys_beside(inputs) == ["method", "uri"]


def test_without_http_request_the_input_is_the_request():
    inputs = {"uri": "http://b/", "method": "POST", "http_request": None}
    assert request_of(inputs) == (inputs, ())
    assert flat_keys_beside(inputs) == []


def test_the_lease_reads_the_flat_forms_timeouts():
    assert http_lease_s({"uri": "http://b/", "connectionTimeOut": 1000, "readTimeOut": 4000}) == 10
    nested = {"http_request": {"uri": "http://a/", "readTimeOut": 60_000}, "readTimeOut": 1}
    assert http_lease_s(nested) == 75


def _flow(inputs):
    step = {"name": "h", "taskReferenceName": "h", "type": "HTTP", "inputParameters": inputs}
    return WorkflowDef.model_validate({"name": "f", "tasks": [step]})


def test_a_flat_form_http_task_is_valid():
    validate_workflow(_flow({"uri": "http://b/${workflow.input.id}", "method": "GET"}))


@pytest.mark.parametrize(
    ("inputs", "field"),
    [
        ({"uri": "", "method": "GET"}, "tasks[0].inputParameters.uri"),
        ({"method": "GET"}, "tasks[0].inputParameters.http_request.uri"),
        (
            {"http_request": {"method": "GET"}, "uri": "http://b/"},
            "tasks[0].inputParameters.http_request.uri",
        ),
    ],
)
def test_a_missing_uri_names_the_field_of_the_form_used(inputs, field):
    with pytest.raises(DefinitionError) as caught:
        validate_workflow(_flow(inputs))
    assert caught.value.field == field

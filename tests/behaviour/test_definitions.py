"""Registering definitions through the API: what is accepted, what is refused and why."""

from __future__ import annotations

from tests.behaviour.helpers import register

FLOW = {
    "name": "greet",
    "version": 1,
    "tasks": [
        {
            "name": "hello",
            "taskReferenceName": "hello",
            "type": "SIMPLE",
            "inputParameters": {"who": "${workflow.input.who}"},
        },
    ],
}


def test_task_defs_round_trip(api):
    response = api.post(
        "/api/metadata/taskdefs",
        json=[{"name": "hello", "retryCount": 2, "retryLogic": "LINEAR_BACKOFF"}],
    )
    assert response.status_code == 200
    got = api.get("/api/metadata/taskdefs/hello").json()
    assert got["retryCount"] == 2
    assert got["retryLogic"] == "LINEAR_BACKOFF"
    assert got["responseTimeoutSeconds"] == 3600  # Conductor's default
    api.put("/api/metadata/taskdefs", json={"name": "hello", "retryCount": 5})
    assert api.get("/api/metadata/taskdefs/hello").json()["retryCount"] == 5
    assert [d["name"] for d in api.get("/api/metadata/taskdefs").json()] == ["hello"]
    assert api.delete("/api/metadata/taskdefs/hello").status_code == 200
    missing = api.get("/api/metadata/taskdefs/hello")
    assert missing.status_code == 404
    assert "hello" in missing.json()["message"]


def test_workflow_versions_are_kept_apart(api):
    register(api, FLOW)
    register(api, {**FLOW, "version": 2, "description": "second"})
    assert (
        api.get("/api/metadata/workflow/greet", params={"version": 1}).json().get("description")
        is None
    )
    assert api.get("/api/metadata/workflow/greet").json()["version"] == 2  # latest by default
    assert len(api.get("/api/metadata/workflow").json()) == 2
    assert api.delete("/api/metadata/workflow/greet/2").status_code == 200
    assert api.get("/api/metadata/workflow/greet").json()["version"] == 1


def test_register_without_overwrite_refuses_an_existing_version(api):
    register(api, FLOW)
    response = api.post("/api/metadata/workflow", json={**FLOW, "description": "changed"})
    assert response.status_code == 409
    assert response.json()["field"] == "version"
    assert "description" not in api.get("/api/metadata/workflow/greet").json()


def test_unknown_fields_from_conductor_sdks_are_kept(api):
    register(
        api,
        {**FLOW, "restartable": True, "workflowStatusListenerEnabled": False, "inputTemplate": {}},
    )
    got = api.get("/api/metadata/workflow/greet").json()
    assert got["workflowStatusListenerEnabled"] is False


def test_invalid_definitions_name_the_field_and_change_nothing(api):
    cases = [
        (
            {"name": "x", "tasks": [{"name": "a", "taskReferenceName": "a", "type": "NOPE"}]},
            "tasks[0].type",
            "unknown task type 'NOPE'",
        ),
        (
            {
                "name": "x",
                "tasks": [{"name": "a", "taskReferenceName": "a", "type": "KAFKA_PUBLISH"}],
            },
            "tasks[0].type",
            "not supported by Podium yet",
        ),
        (
            {
                "name": "x",
                "tasks": [{"name": "a", "taskReferenceName": "a", "type": "EVENT"}],
            },
            "tasks[0].sink",
            "an EVENT task needs a sink",
        ),
        (
            {"name": "x", "tasks": [{"name": "a", "taskReferenceName": "a", "type": "DO_WHILE"}]},
            "tasks[0].loopOver",
            "a DO_WHILE needs at least one task in loopOver",
        ),
        (
            {
                "name": "x",
                "tasks": [
                    {"name": "a", "taskReferenceName": "a"},
                    {"name": "b", "taskReferenceName": "a"},
                ],
            },
            "tasks[1].taskReferenceName",
            "already used",
        ),
        (
            {
                "name": "x",
                "tasks": [
                    {
                        "name": "a",
                        "taskReferenceName": "a",
                        "inputParameters": {"v": "${ghost.output.x}"},
                    }
                ],
            },
            "tasks[0].inputParameters",
            "'ghost'",
        ),
        (
            {"name": "x", "tasks": [{"name": "h", "taskReferenceName": "h", "type": "HTTP"}]},
            "tasks[0].inputParameters.http_request.uri",
            "needs a uri",
        ),
        (
            {
                "name": "x",
                "tasks": [
                    {
                        "name": "f",
                        "taskReferenceName": "f",
                        "type": "FORK_JOIN",
                        "forkTasks": [[{"name": "a", "taskReferenceName": "a"}]],
                    },
                    {"name": "b", "taskReferenceName": "b"},
                ],
            },
            "tasks[0]",
            "must be followed by a JOIN",
        ),
        (
            {
                "name": "x",
                "tasks": [
                    {
                        "name": "s",
                        "taskReferenceName": "s",
                        "type": "SWITCH",
                        "evaluatorType": "javascript",
                        "expression": "while (true {}",
                    }
                ],
            },
            "tasks[0].expression",
            "SyntaxError",
        ),
        (
            {
                "name": "x",
                "tasks": [
                    {
                        "name": "w",
                        "taskReferenceName": "w",
                        "type": "WAIT",
                        "inputParameters": {"duration": "soon"},
                    }
                ],
            },
            "tasks[0].inputParameters.duration",
            "soon",
        ),
        ({"name": "x", "tasks": [{"taskReferenceName": "a"}]}, "tasks[0].name", "Field required"),
        ({"name": "x", "tasks": []}, "tasks", "at least 1"),
    ]
    for body, field, words in cases:
        response = api.post("/api/metadata/workflow", json=body)
        assert response.status_code == 400, (body, response.text)
        error = response.json()
        assert error["field"] == field, error
        assert words in error["message"], error
    assert api.get("/api/metadata/workflow").json() == []


def test_malformed_json_is_a_400(api):
    response = api.post(
        "/api/metadata/workflow", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["field"] == "body"


def test_oversized_payload_is_refused_with_413(tmp_path):
    import httpx

    from podium.testing import PodiumTestServer

    with PodiumTestServer(tmp_path / "small.db", max_payload_bytes=1000) as small:
        big = {**FLOW, "description": "x" * 5000}
        response = httpx.post(f"{small.url}/api/metadata/workflow", json=big)
        assert response.status_code == 413
        assert "limit is 1000" in response.json()["message"]
        assert httpx.get(f"{small.url}/api/metadata/workflow").json() == []


def test_the_openapi_document_lists_the_api(api):
    document = api.get("/openapi.json").json()
    paths = document["paths"]
    for path in (
        "/api/metadata/taskdefs",
        "/api/metadata/workflow",
        "/api/workflow/{name}",
        "/api/workflow/{workflow_id}",
        "/api/workflow/search",
        "/api/tasks/poll/batch/{task_type}",
        "/api/tasks",
        "/api/tasks/update-v2",
    ):
        assert path in paths, path
    assert "taskId" in str(paths["/api/tasks/update-v2"]["post"]["requestBody"])

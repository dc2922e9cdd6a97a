"""The request body limit holds while the body is read, chunked or not: nothing past it is
buffered, and the refused request changes nothing."""

from __future__ import annotations

from collections.abc import Iterator

import httpx

LIMIT = 256 * 1024
CHUNK = 64 * 1024
TOTAL = 256 * 1024 * 1024


class Body:
    """A chunked upload far bigger than the limit, counting what the server took of it."""

    def __init__(self) -> None:
        self.sent = 0

    def __iter__(self) -> Iterator[bytes]:
        yield b'{"blob": "'
        while self.sent < TOTAL:
            self.sent += CHUNK
            yield b"x" * CHUNK
        yield b'"}'


def test_a_chunked_body_over_the_limit_is_refused_without_reading_the_rest(store_choice):
    with (
        store_choice.server(max_payload_bytes=LIMIT) as server,
        httpx.Client(base_url=server.url, timeout=60) as api,
    ):
        register = {
            "name": "flow",
            "tasks": [{"name": "work", "taskReferenceName": "work", "type": "SIMPLE"}],
        }
        assert api.post("/api/metadata/workflow", json=register).status_code == 200
        body = Body()
        response = api.post(
            "/api/workflow/flow", content=body, headers={"content-type": "application/json"}
        )
        assert response.status_code == 413, response.text
        assert response.json()["code"] == "E_PAYLOAD_TOO_LARGE"
        assert str(LIMIT) in response.json()["message"]
        assert "PODIUM_MAX_PAYLOAD_BYTES" in response.json()["message"]
        # Socket buffers on both sides hold a few MB at most; the whole body is 256 MB.
        assert body.sent < 32 * 1024 * 1024, body.sent
        found = api.get("/api/workflow/search", params={"query": "workflowType='flow'"})
        assert found.json()["totalHits"] == 0
        # The server still answers, on a new connection.
        assert api.get("/api/health").status_code == 200


def test_a_declared_length_over_the_limit_is_refused_before_the_body_is_read(store_choice):
    with (
        store_choice.server(max_payload_bytes=LIMIT) as server,
        httpx.Client(base_url=server.url, timeout=60) as api,
    ):
        body = Body()
        chunks = list(_take(body, LIMIT * 4))
        response = api.post(
            "/api/metadata/taskdefs",
            content=b"".join(chunks),
            headers={"content-type": "application/json"},
        )
        assert response.status_code == 413, response.text
        assert str(LIMIT) in response.json()["message"]
        assert api.get("/api/metadata/taskdefs").json() == []


def test_a_chunked_body_within_the_limit_is_read_whole(store_choice):
    with (
        store_choice.server(max_payload_bytes=LIMIT) as server,
        httpx.Client(base_url=server.url, timeout=60) as api,
    ):
        pieces = [b'[{"name": "chunked", "description": "', b"d" * (LIMIT // 2), b'"}]']
        response = api.post(
            "/api/metadata/taskdefs",
            content=iter(pieces),
            headers={"content-type": "application/json"},
        )
        assert response.status_code == 200, response.text
        assert api.get("/api/metadata/taskdefs/chunked").json()["description"] == "d" * (LIMIT // 2)


def _take(body: Body, size: int) -> Iterator[bytes]:
    taken = 0
    for chunk in body:
        if taken >= size:
            return
        taken += len(chunk)
        yield chunk

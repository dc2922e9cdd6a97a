"""The event bus and traces through the ``podium`` command against a real server."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from podium.cli import app


def _cli(server, *args: str):
    return CliRunner().invoke(app, [*args, "--server", server.url])


def test_publish_handlers_dead_letters_and_trace_from_the_command_line(server, tmp_path):
    handler = {
        "name": "relay",
        "event": "order.paid",
        "actions": [{"action": "publish", "publish": {"topic": "invoice.requested"}}],
    }
    (tmp_path / "relay.json").write_text(json.dumps(handler))
    assert _cli(server, "handlers", "apply", str(tmp_path)).exit_code == 0
    assert _cli(server, "handlers", "apply", str(tmp_path / "relay.json")).exit_code == 0  # update
    listed = _cli(server, "handlers", "list")
    assert "relay" in listed.output and "order.paid" in listed.output

    result = _cli(
        server,
        "events", "publish", "order.paid", "--payload", '{"order": 1}',
        "--id", "evt-cli-1", "--correlation-id", "order-1", "--source", "payments", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {
        "id": "evt-cli-1",
        "duplicate": False,
        "deliveries": 1,
        "completedTasks": [],
    }
    again = _cli(server, "events", "publish", "order.paid", "--id", "evt-cli-1")
    assert "duplicate" in again.output

    traced = _cli(server, "trace", "order-1", "--json")
    assert traced.exit_code == 0, traced.output
    labels = [node["label"] for node in json.loads(traced.output)["nodes"]]
    assert labels[0] == "order.paid"

    shown = _cli(server, "trace", "order-1")
    assert "order.paid" in shown.output and "[payments]" in shown.output

    assert _cli(server, "handlers", "disable", "relay").exit_code == 0
    assert "no" in _cli(server, "handlers", "list").output
    assert _cli(server, "events", "publish", "order.paid").output.endswith("(0 deliveries)\n")
    listed_events = _cli(server, "events", "list", "--topic", "order.paid")
    assert "evt-cli-1" in listed_events.output
    assert "no dead letters" in _cli(server, "events", "dead-letters").output
    assert "replayed 0" in _cli(server, "events", "replay").output
    missing = _cli(server, "trace", "nobody")
    assert missing.exit_code == 1 and "nobody" in missing.output
    assert _cli(server, "handlers", "remove", "relay").exit_code == 0

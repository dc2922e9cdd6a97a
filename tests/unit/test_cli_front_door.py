"""What a new user meets first: the worker loading a file, ``--api-key`` anywhere, help that
tells ``retry``, ``rerun`` and ``restart`` apart, ``PODIUM_DATA_DIR`` and the demo's port."""

from __future__ import annotations

import os
import socket
import sys
import textwrap
import types
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from examples.order import demo, processes
from podium.cli import app
from podium.cli_auth import hoist_api_key
from podium.settings import Settings
from podium.testing import PodiumTestServer


def podium(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


@pytest.fixture(scope="module")
def shared_server() -> Iterator[PodiumTestServer]:
    with PodiumTestServer() as server:
        yield server


@pytest.fixture
def server(shared_server: PodiumTestServer, monkeypatch: pytest.MonkeyPatch) -> PodiumTestServer:
    shared_server.reset()
    monkeypatch.setenv("PODIUM_SERVER", shared_server.url)
    return shared_server


GREETER = """
from podium.worker import worker_task
from helper_for_greeter import punctuation

@worker_task("fd_hello")
def hello(who: str) -> dict[str, str]:
    return {"message": f"Hello, {who}{punctuation()}"}
"""


def test_the_worker_takes_a_python_file_by_its_path(
    server: PodiumTestServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "code"
    folder.mkdir()
    (folder / "greeter_fd.py").write_text(textwrap.dedent(GREETER))
    # The file imports a sibling, as it would when run with ``python greeter.py``.
    (folder / "helper_for_greeter.py").write_text("def punctuation() -> str:\n    return '!'\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    for name in ("greeter_fd", "helper_for_greeter"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    first = server.enqueue("fd_hello", {"who": "Ada"})
    result = podium("worker", "code/greeter_fd.py", "--burst", "--poll-timeout-ms", "20")
    assert result.exit_code == 0, result.output
    assert server.task(first)["outputData"] == {"message": "Hello, Ada!"}

    second = server.enqueue("fd_hello", {"who": "Bo"})
    result = podium("worker", "code/greeter_fd.py:hello", "--burst", "--poll-timeout-ms", "20")
    assert result.exit_code == 0, result.output
    assert server.task(second)["outputData"] == {"message": "Hello, Bo!"}


def test_the_worker_names_a_missing_file(server: PodiumTestServer, tmp_path: Path) -> None:
    result = podium("worker", str(tmp_path / "nope.py"))
    assert result.exit_code == 2
    assert f"cannot load {tmp_path / 'nope.py'}: no file" in result.stderr


def test_api_key_is_moved_in_front_wherever_it_stands() -> None:
    assert hoist_api_key(["list", "--api-key", "k:s", "--json"]) == [
        "--api-key",
        "k:s",
        "list",
        "--json",
    ]
    assert hoist_api_key(["events", "list", "--api-key=k:s"]) == ["--api-key=k:s", "events", "list"]
    # After ``--`` everything is an argument.
    assert hoist_api_key(["x", "--", "--api-key", "v"]) == ["x", "--", "--api-key", "v"]


def test_api_key_after_the_command_reaches_the_clients(
    server: PodiumTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PODIUM_API_KEY", "")
    result = podium("list", "--api-key", "late:secret")
    assert result.exit_code == 0, result.output
    assert os.environ["PODIUM_API_KEY"] == "late:secret"
    missing = podium("list", "--api-key")
    assert missing.exit_code == 2 and "needs a value: keyId:keySecret" in missing.output


def test_retry_rerun_and_restart_each_say_how_they_differ() -> None:
    helps = {name: podium(name, "--help").output for name in ("retry", "rerun", "restart")}
    assert "where it failed" in helps["retry"] and "COMPENSATION_FAILED" in helps["retry"]
    assert "--from-task" in helps["rerun"] and "new input" in helps["rerun"]
    assert "from the start" in helps["restart"] and "same input" in helps["restart"]
    for name, text in helps.items():
        others = {"retry", "rerun", "restart"} - {name}
        assert all(other in text for other in others), f"{name}'s help names the others"
    firsts = {text.split("Options")[0] for text in helps.values()}
    assert len(firsts) == 3


def test_data_dir_holds_the_default_database(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.delenv("PODIUM_DATABASE", raising=False)
    monkeypatch.setenv("PODIUM_DATA_DIR", str(tmp_path / "data"))
    assert Settings.from_env().database == str(tmp_path / "data" / "podium.db")
    monkeypatch.setenv("PODIUM_DATABASE", "/elsewhere/runs.db")  # a named file wins
    assert Settings.from_env().database == "/elsewhere/runs.db"
    assert Settings.from_env(database="flag.db").database == "flag.db"
    monkeypatch.delenv("PODIUM_DATA_DIR")
    monkeypatch.delenv("PODIUM_DATABASE")
    assert Settings.from_env().database == "podium.db"


def test_the_demo_takes_its_port_from_podium_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PODIUM_PORT", "8099")
    assert demo.parse_args([]).port == 8099
    assert demo.parse_args(["--port", "0"]).port == 0
    monkeypatch.setenv("PODIUM_PORT", "eighty")
    with pytest.raises(SystemExit, match="PODIUM_PORT must be a port number"):
        demo.parse_args([])


def test_the_demo_says_how_to_pick_another_port_when_its_own_is_taken() -> None:
    with socket.socket() as taken:
        taken.bind((processes.HOST, 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(processes.DemoError, match=f"port {port} is already in use") as err:
            processes.ensure_port_free(port)
    assert "PODIUM_PORT" in str(err.value) and "--port" in str(err.value)


def test_the_server_says_plainly_that_its_port_is_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    served: list[Settings] = []
    module = types.ModuleType("podium.server.main")
    module.serve = served.append  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "podium.server.main", module)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = podium("server", "--port", str(port))
    assert result.exit_code == 1
    assert f"cannot listen on 127.0.0.1:{port}: the port is already in use" in result.stderr
    assert "PODIUM_PORT" in result.stderr
    assert served == []

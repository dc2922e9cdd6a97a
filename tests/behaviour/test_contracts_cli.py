"""``podium contracts`` against a running server, on each store."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from podium.cli import app
from tests.behaviour.test_contracts import CHARGE, RESERVE


def cli(*args: str):
    return CliRunner().invoke(app, ["contracts", *args])


def write(folder, *contracts):
    folder.mkdir(exist_ok=True)
    for contract in contracts:
        (folder / f"{contract['name']}.json").write_text(json.dumps(contract))
    return folder


def test_push_list_show_and_pull(server, tmp_path):
    folder = write(tmp_path / "contracts", RESERVE, CHARGE)
    pushed = cli("push", str(folder), "--server", server.url)
    assert pushed.exit_code == 0, pushed.output
    assert "registered task/charge_payment@1.2.0" in pushed.output
    again = cli("push", str(folder), "--server", server.url)
    assert "unchanged  task/reserve_inventory@1.0.0" in again.output
    listed = cli("list", "--server", server.url)
    assert "charge_payment" in listed.output and "1.2.0  (payments)" in listed.output
    shown = cli("show", "task", "reserve_inventory", "--server", server.url)
    assert json.loads(shown.output) == RESERVE
    out = tmp_path / "pulled"
    pulled = cli("pull", str(out), "--server", server.url)
    assert pulled.exit_code == 0, pulled.output
    assert json.loads((out / "task" / "charge_payment.json").read_text()) == CHARGE


def test_a_refused_push_exits_1_and_names_the_problem(server, tmp_path):
    cli("push", str(write(tmp_path / "a", RESERVE)), "--server", server.url)
    edited = write(tmp_path / "b", {**RESERVE, "service": "stock"})
    result = cli("push", str(edited), "--server", server.url)
    assert result.exit_code == 1
    assert "already registered with different content" in result.output
    missing = cli("show", "task", "nope", "--server", server.url)
    assert missing.exit_code == 1 and "no task contract 'nope'" in missing.output


def test_check_against_the_running_server(server, tmp_path):
    cli("push", str(write(tmp_path / "deployed", RESERVE, CHARGE)), "--server", server.url)
    output = {**CHARGE["output"], "required": []}
    proposed = write(
        tmp_path / "proposed", RESERVE, {**CHARGE, "version": "1.3.0", "output": output}
    )
    result = cli("check", server.url, str(proposed))
    assert result.exit_code == 1, result.output
    assert "task charge_payment 1.2.0 -> 1.3.0: BREAKING" in result.output
    assert "output $.receipt: field 'receipt' may now be absent" in result.output
    bumped = write(tmp_path / "bumped", RESERVE, {**CHARGE, "version": "2.0.0", "output": output})
    assert cli("check", server.url, str(bumped)).exit_code == 0
    unreachable = cli("check", "http://127.0.0.1:9", str(bumped))
    assert unreachable.exit_code == 2


def test_catalogue_from_the_server_and_from_a_folder(server, tmp_path):
    folder = write(tmp_path / "contracts", RESERVE, CHARGE)
    cli("push", str(folder), "--server", server.url)
    page = cli("catalogue", server.url, "--format", "html")
    assert page.exit_code == 0 and "<h2>Service <code>inventory</code></h2>" in page.output
    target = tmp_path / "SCORE.md"
    written = cli("catalogue", str(folder), "--out", str(target))
    assert written.exit_code == 0
    assert "### Task `charge_payment`" in target.read_text()
    assert cli("catalogue", str(folder), "--format", "pdf").exit_code == 2

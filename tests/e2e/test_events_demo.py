"""The hybrid order example runs and its two traces come out as its README shows."""

from __future__ import annotations

from examples.events import demo


def test_the_hybrid_order_demo_traces_both_orders(tmp_path, capsys):
    assert demo.main(["--db", str(tmp_path / "demo.db")]) == 0
    printed = capsys.readouterr().out
    assert "every step completed and every event was delivered" in printed
    assert "stopped at: consumer loyalty dead-lettered" in printed

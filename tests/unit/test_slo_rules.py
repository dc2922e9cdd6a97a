"""``podium slo rules``: Prometheus recording rules per window and the SRE workbook's
multi-window, multi-burn-rate alerts, read back as YAML."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from typer.testing import CliRunner

from podium.cli import app
from podium.slo import files
from podium.slo.rules import build_rules

SLOS = """
slos:
  - name: checkout-latency
    workflow: checkout
    objective: {latency: {percentile: 95, thresholdMs: 2000}}
    window: 30d
  - name: payments-success
    service: payments
    objective: {success: {target: 0.995}}
    window: 28d
  - name: checkout-success
    workflow: checkout
    objective: {success: {target: 0.99, countCompensatedAsFailure: false}}
  - name: pay-step
    workflow: checkout
    step: pay
    objective: {success: {target: 0.99}}
"""


def _rules(tmp_path):
    path = tmp_path / "slos.yaml"
    path.write_text(SLOS)
    result = CliRunner().invoke(app, ["slo", "rules", "-f", str(path)])
    assert result.exit_code == 0, result.output
    return result, yaml.safe_load(result.stdout)


def test_rules_record_error_ratios_and_alert_on_two_windows(tmp_path):
    result, parsed = _rules(tmp_path)
    groups = {g["name"]: g["rules"] for g in parsed["groups"]}
    # A step has no label in Podium's metrics: no rules, said on stderr.
    assert sorted(groups) == [
        "podium-slo-checkout-latency",
        "podium-slo-checkout-success",
        "podium-slo-payments-success",
    ]
    assert "skipped pay-step" in result.stderr

    latency = groups["podium-slo-checkout-latency"]
    records = {r["record"]: r for r in latency if "record" in r}
    assert sorted(records) == sorted(
        f"podium_slo:error_ratio:rate{w}" for w in ("5m", "30m", "1h", "6h", "1d", "3d")
    )
    one_hour = records["podium_slo:error_ratio:rate1h"]
    assert one_hour["labels"] == {"slo": "checkout-latency"}
    assert one_hour["expr"] == (
        '1 - (sum(rate(podium_run_duration_seconds_bucket{workflow="checkout",le="2.0"}[1h])) / '
        'sum(rate(podium_run_duration_seconds_count{workflow="checkout"}[1h])))'
    )
    alerts = {r["alert"]: r for r in latency if "alert" in r}
    expected = {  # burn rate, long and short window, severity: the workbook's table
        "PodiumSLOBurn1h": ("14.4", "1h", "5m", "page"),
        "PodiumSLOBurn6h": ("6.0", "6h", "30m", "page"),
        "PodiumSLOBurn3d": ("1.0", "3d", "6h", "ticket"),
    }
    assert sorted(alerts) == sorted(expected)
    for name, (rate, long, short, severity) in expected.items():
        alert = alerts[name]
        assert alert["expr"] == (
            f'podium_slo:error_ratio:rate{long}{{slo="checkout-latency"}} > ({rate} * 0.05) and '
            f'podium_slo:error_ratio:rate{short}{{slo="checkout-latency"}} > ({rate} * 0.05)'
        )
        assert alert["labels"]["severity"] == severity
        assert (alert["labels"]["long_window"], alert["labels"]["short_window"]) == (long, short)


def test_windows_scale_with_the_slo_and_success_counts_the_right_statuses(tmp_path):
    _, parsed = _rules(tmp_path)
    groups = {g["name"]: g["rules"] for g in parsed["groups"]}
    payments = {r.get("record") or r["alert"]: r for r in groups["podium-slo-payments-success"]}
    # 28 days: every window is 28/30 of the workbook's.
    five = payments["podium_slo:error_ratio:rate5m"]["expr"]
    assert re.findall(r"\[([^\]]+)\]", five) == ["4m40s", "4m40s"]
    assert (
        'podium_tasks_finished_total{service="payments",status!~"COMPLETED|CANCELED|SKIPPED"}'
        in five
    )
    page = payments["PodiumSLOBurn1h"]
    assert "(14.4 * 0.005)" in page["expr"]
    assert (page["labels"]["long_window"], page["labels"]["short_window"]) == ("56m", "4m40s")
    lenient = groups["podium-slo-checkout-success"][0]["expr"]
    assert 'status!~"COMPLETED|COMPENSATED"' in lenient


def test_a_bad_file_names_the_field(tmp_path):
    path = tmp_path / "slos.yaml"
    path.write_text("- name: x\n  workflow: w\n  objective: {success: {target: 2}}\n")
    result = CliRunner().invoke(app, ["slo", "rules", "-f", str(path)])
    assert result.exit_code == 2
    assert "[0].objective.success.target" in result.stderr


def test_the_order_demos_slos_load_and_get_rules():
    example = Path(__file__).resolve().parents[2] / "examples" / "order" / "slos.yaml"
    slos = files.load_path(example)
    assert [s.scope for s in slos] == ["workflow", "workflow", "step", "service"]
    built = build_rules(slos)
    assert len(built.groups) == 3 and built.notes == []
    assert built.skipped == [
        "shipping-booking: Podium's metrics have no step label; its value is on /metrics as "
        "podium_slo_value"
    ]

"""The check's report as text a reviewer reads in a CI log."""

from __future__ import annotations

from podium.contracts.check import ContractDiff, Outcome, Report

__all__ = ["render"]


def _versions(diff: ContractDiff) -> str:
    old = str(diff.old.version) if diff.old else "-"
    new = str(diff.new.version) if diff.new else "-"
    return f"{old} -> {new}"


def render(report: Report, old_label: str, new_label: str, *, verbose: bool = True) -> str:
    """One block per changed contract, each change marked, then a verdict line."""
    lines = [f"contracts: {old_label} -> {new_label}", ""]
    changed = report.changed()
    if not changed:
        lines.append("no contract changed")
    for diff in changed:
        lines.append(f"{diff.kind} {diff.name} {_versions(diff)}: {diff.outcome.value}")
        if not verbose and not diff.outcome.fails:
            continue
        for item in diff.changes:
            mark = "BREAKING  " if item.change.breaking else "compatible"
            lines.append(f"  {mark} {item.part} {item.change.path}: {item.change.message}")
        if diff.outcome == Outcome.BREAKING:
            assert diff.old is not None
            lines.append(
                f"  -> publish it as {diff.old.version.major + 1}.0.0, or keep the old "
                "behaviour; callers pinned to the old major version keep working"
            )
        elif diff.outcome == Outcome.NOT_VERSIONED:
            lines.append("  -> a pushed version never changes: give this content a new version")
    failing = [diff for diff in changed if diff.outcome.fails]
    breaking = sum(1 for diff in changed if diff.breaking)
    lines.append("")
    lines.append(
        f"{len(report.diffs)} contracts, {len(changed)} changed, {breaking} with breaking "
        f"changes, {len(failing)} not allowed"
    )
    lines.append("FAIL: not safe to merge" if failing else "OK: safe to merge")
    return "\n".join(lines) + "\n"

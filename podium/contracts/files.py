"""Contracts as files a repository keeps under version control.

A contract folder holds ``*.json`` files (searched recursively), each one contract or a list
of them, e.g. ``contracts/tasks/charge_payment.json``. A single file may be given instead of
a folder. File names are free; what counts is each contract's ``kind``, ``name`` and
``version``.
"""

from __future__ import annotations

import json
from pathlib import Path

from podium.contracts.model import Contract, parse_contract
from podium.errors import ValidationError

__all__ = ["load_path", "write_folder"]


def load_path(path: str | Path) -> list[Contract]:
    """Every contract in a file or folder; a ValidationError names the file and field."""
    root = Path(path)
    if root.is_dir():
        files = sorted(p for p in root.rglob("*.json") if p.is_file())
    elif root.is_file():
        files = [root]
    else:
        raise ValidationError(f"{root} is neither a contract file nor a folder", field="path")
    found: list[Contract] = []
    seen: dict[tuple[str, str, str], Path] = {}
    for file in files:
        where = str(file.relative_to(root)) if root.is_dir() else file.name
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ValidationError(f"{where}: not readable JSON: {exc}", field=where) from exc
        items = data if isinstance(data, list) else [data]
        for i, item in enumerate(items):
            contract = parse_contract(item, f"{where}[{i}]" if isinstance(data, list) else where)
            key = (contract.kind, contract.name, str(contract.version))
            if key in seen:
                raise ValidationError(
                    f"{where}: {contract.label} is also defined in {seen[key]}", field=where
                )
            seen[key] = file
            found.append(contract)
    return found


def write_folder(contracts: list[Contract], folder: str | Path) -> list[Path]:
    """Write each contract to ``<folder>/<kind>/<name>.json`` (the highest version wins)."""
    written: list[Path] = []
    for contract in sorted(contracts, key=lambda c: (c.kind, c.name, c.version)):
        target = Path(folder) / contract.kind / f"{contract.name}.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(contract.to_json(), indent=2) + "\n", encoding="utf-8")
        if target not in written:
            written.append(target)
    return written

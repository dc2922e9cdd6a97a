"""SLOs as files a repository keeps: YAML (or JSON, which YAML reads too) holding one SLO, a
list of them, or ``{"slos": [...]}``; a folder's ``*.yaml``, ``*.yml`` and ``*.json`` files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from podium.errors import ValidationError
from podium.slo.model import Slo, parse_slo

__all__ = ["load_path"]

_SUFFIXES = (".yaml", ".yml", ".json")


def _items(data: Any) -> list[Any]:
    if isinstance(data, dict) and "slos" in data:
        data = data["slos"]
    return data if isinstance(data, list) else [data]


def load_path(path: str | Path) -> list[Slo]:
    """Every SLO in a file or folder; a ValidationError names the file and field."""
    root = Path(path)
    if root.is_dir():
        files = sorted(p for p in root.rglob("*") if p.suffix in _SUFFIXES and p.is_file())
    elif root.is_file():
        files = [root]
    else:
        raise ValidationError(f"{root} is neither an SLO file nor a folder", field="path")
    found: list[Slo] = []
    seen: dict[str, str] = {}
    for file in files:
        where = str(file.relative_to(root)) if root.is_dir() else file.name
        try:
            data = yaml.safe_load(file.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise ValidationError(f"{where}: not readable YAML: {exc}", field=where) from exc
        for i, item in enumerate(_items(data)):
            slo = parse_slo(item, f"{where}[{i}]")
            if slo.name in seen:
                raise ValidationError(
                    f"{where}: SLO {slo.name!r} is also defined in {seen[slo.name]}", field=where
                )
            seen[slo.name] = where
            found.append(slo)
    return found

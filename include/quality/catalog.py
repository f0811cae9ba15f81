"""The contracts under `soda/contracts/` and the check classes they use.

A contract's path mirrors its dataset: `soda/contracts/raw_<id>/<resource>.yml` checks
`raw_<id>.<resource>`, `soda/contracts/marts/<model>.yml` checks `marts.<model>`. Each check's
`qualifier` is `<class>` or `<class>__<detail>`; the class (in `soda/check_classes.yml`) gives
the principle, whether it blocks publication, and the advice for the warning mail.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from include import settings

CONTRACTS_DIR = settings.SODA_DIR / "contracts"
DATA_SOURCE_FILE = settings.SODA_DIR / "data_sources" / "warehouse.yml"
CLASSES_FILE = settings.SODA_DIR / "check_classes.yml"
PRINCIPLES = ("原始性", "规范性", "完整性", "即时性")


@dataclass(frozen=True)
class CheckClass:
    name: str
    principle: str
    blocking: bool
    title: str
    advice: str
    defect: str | None = None


@dataclass(frozen=True)
class Contract:
    path: Path
    layer: str  # raw | marts
    schema: str
    table: str
    subsystem: str | None

    @property
    def dataset(self) -> str:
        return f"{self.schema}.{self.table}"

    @property
    def relative_path(self) -> str:
        try:
            return str(self.path.relative_to(settings.ROOT))
        except ValueError:
            return str(self.path)

    def document(self) -> dict:
        return yaml.safe_load(self.path.read_text(encoding="utf-8"))


@cache
def check_classes() -> dict[str, CheckClass]:
    data = yaml.safe_load(CLASSES_FILE.read_text(encoding="utf-8"))
    classes = {}
    for name, spec in data.items():
        if spec.get("principle") not in PRINCIPLES:
            raise ValueError(f"{CLASSES_FILE}: {name}.principle must be one of {PRINCIPLES}")
        classes[name] = CheckClass(
            name=name,
            principle=spec["principle"],
            blocking=bool(spec.get("blocking", False)),
            title=spec["title"],
            advice=spec["advice"],
            defect=spec.get("defect"),
        )
    return classes


def split_qualifier(qualifier: str | None) -> tuple[str, str | None]:
    """`missing_required__xm` → ("missing_required", "xm")."""
    if not qualifier:
        raise ValueError("a check without a qualifier: every check names its class in `qualifier`")
    name, _, detail = qualifier.partition("__")
    return name, detail or None


def check_class(qualifier: str | None) -> CheckClass:
    name, _ = split_qualifier(qualifier)
    try:
        return check_classes()[name]
    except KeyError:
        raise ValueError(
            f"unknown check class '{name}' in qualifier '{qualifier}': "
            f"add it to {CLASSES_FILE.name}"
        ) from None


def contract_for_path(path: Path, root: Path = CONTRACTS_DIR) -> Contract:
    rel = path.resolve().relative_to(root.resolve())
    schema, table = rel.parts[0], rel.stem
    layer = "raw" if schema.startswith("raw_") else "marts"
    subsystem = schema.removeprefix("raw_") if layer == "raw" else None
    return Contract(path.resolve(), layer, schema, table, subsystem)


def contracts(layer: str | None = None, contracts_dir: Path | None = None) -> list[Contract]:
    """Every contract (of one layer), in stable order."""
    root = contracts_dir or CONTRACTS_DIR
    found = [contract_for_path(p, root) for p in sorted(root.glob("*/*.yml"))]
    return [c for c in found if layer is None or c.layer == layer]

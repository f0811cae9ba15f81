"""The code sets: the dbt seeds in `dbt_project/seeds/codes/<name>.csv` (columns `code`,
`name_zh`, then any others), read here for landing validation, the Soda contracts, the
registry check and the sandbox; dbt loads the same files as seeds.
"""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

from include import settings

CODES_DIR = settings.DBT_DIR / "seeds" / "codes"
# The national standard a code set is, for messages that name it.
STANDARDS = {
    "gb_t_2261_1_sex": "GB/T 2261.1-2003 性别代码",
    "gb_3304_ethnicity": "GB 3304-1991 民族代码",
    "gb_t_4762_political_status": "GB/T 4762-1984 政治面貌代码",
    "gb_t_4658_education": "GB/T 4658-2006 学历代码",
}


def names(codes_dir: Path = CODES_DIR) -> list[str]:
    """Every code set's name (the seed's file name without `.csv`)."""
    return sorted(p.stem for p in codes_dir.glob("*.csv"))


@cache
def rows(name: str) -> tuple[dict[str, str], ...]:
    """The rows of `dbt_project/seeds/codes/<name>.csv`, every column."""
    with (CODES_DIR / f"{name}.csv").open(encoding="utf-8", newline="") as f:
        return tuple(csv.DictReader(f))


@cache
def code_set(name: str) -> dict[str, str]:
    """code → Chinese name, in the seed's order."""
    return {row["code"]: row["name_zh"] for row in rows(name)}


def standard(name: str) -> str:
    """The standard's title for a national code set, else the code set's name."""
    return STANDARDS.get(name, name)

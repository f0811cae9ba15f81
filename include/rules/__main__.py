"""`python -m include.rules`: rewrite the files generated from the rules (the dbt date tokens)."""

from __future__ import annotations

from include import settings
from include.rules import dates


def main() -> None:
    path = settings.DBT_DIR / "macros" / dates.DBT_MACROS
    path.write_text(dates.dbt_macros(), encoding="utf-8")
    print(f"已写入 {path.relative_to(settings.ROOT)}")


if __name__ == "__main__":
    main()

"""GB 11643-1999 公民身份号码: 17 digits and a check character (ISO 7064 MOD 11-2, X = 10).

The one definition of the rule: landing validation (`connectors/validate.py`), the sandbox's
generated people, and the SQL function `quality.gb11643_valid` the Soda contracts call
(`sql_function()`, created by the warehouse bootstrap) all come from here.
"""

from __future__ import annotations

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK = "10X98765432"  # indexed by the weighted sum mod 11


def check_char(first17: str) -> str:
    """The check character of the first 17 digits."""
    return CHECK[sum(int(c) * w for c, w in zip(first17, WEIGHTS, strict=True)) % 11]


def valid(value: str) -> bool:
    """18 characters, 17 ASCII digits and the right check character (x counts as X)."""
    if len(value) != 18 or not value[:17].isdigit() or not value[:17].isascii():
        return False
    return check_char(value[:17]) == value[17].upper()


def sql_function() -> str:
    """`quality.gb11643_valid(text)`, the same rule in SQL; idempotent."""
    weights = ", ".join(map(str, WEIGHTS))
    return f"""
create or replace function quality.gb11643_valid(value text) returns boolean
language sql immutable parallel safe as $$
    select
        value ~ '^\\d{{17}}[\\dX]$'
        and substr('{CHECK}', (
            select sum(substr(value, i::int, 1)::int * w) % 11 + 1
            from unnest(array[{weights}]) with ordinality as weights (w, i)
        )::int, 1) = substr(value, 18, 1)
$$;
comment on function quality.gb11643_valid(text) is '身份证号（GB 11643-1999）格式与校验位是否正确';
"""

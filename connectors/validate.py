"""Field-spec checks at landing: what a record must satisfy to enter `raw_<id>` (Article 11).

A record that fails is not dropped: it goes to `landing.rejects` with a reason code (the
sandbox's defect class names), the field, a Chinese reason that names the field and the fix,
and its raw text verbatim. Only the checks the YAML asks for are made: the primary key, the
`required:` fields, and per-field hints (`code_set:`, a date `format:`, `format: gb11643`).
New fields (schema drift) and odd text (SQL metacharacters, emoji, long strings) are not
defects and land verbatim.

Code sets are the dbt seeds in `dbt_project/seeds/codes/` (one source for landing and dbt).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from include import settings

TZ = ZoneInfo(settings.TIMEZONE)
CODES_DIR = settings.DBT_DIR / "seeds" / "codes"
STANDARDS = {
    "gb_t_2261_1_sex": "GB/T 2261.1-2003 性别代码",
    "gb_3304_ethnicity": "GB 3304-1991 民族代码",
    "gb_t_4762_political_status": "GB/T 4762-1984 政治面貌代码",
    "gb_t_4658_education": "GB/T 4658-2006 学历代码",
}
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
_TOKEN = re.compile("yyyy|MM|dd|HH|mm|ss")


# -- code sets ----------------------------------------------------------------------------------


def code_set_names(codes_dir: Path = CODES_DIR) -> list[str]:
    return sorted(p.stem for p in codes_dir.glob("*.csv"))


@cache
def code_set(name: str) -> dict[str, str]:
    """code → Chinese name, from `dbt_project/seeds/codes/<name>.csv`."""
    with (CODES_DIR / f"{name}.csv").open(encoding="utf-8", newline="") as f:
        return {row["code"]: row["name_zh"] for row in csv.DictReader(f)}


# -- dates --------------------------------------------------------------------------------------


def date_parser(fmt: str) -> Callable[[Any], datetime]:
    """A strict parser for one vendor date format; raises ValueError on anything impossible.

    Fixed-width formats are parsed by slicing (about ten times faster than strptime, which
    matters at a million card transactions); naive values are Asia/Shanghai.
    """
    if fmt == "epoch_ms":

        def parse_ms(value: Any) -> datetime:
            if isinstance(value, bool) or not isinstance(value, int | float | str):
                raise ValueError(value)
            return datetime.fromtimestamp(int(value) / 1000, UTC).astimezone(TZ)

        return parse_ms
    if fmt == "iso":

        def parse_iso(value: Any) -> datetime:
            if not isinstance(value, str) or len(value) < 10 or value[4] != "-":
                raise ValueError(value)
            parsed = datetime.fromisoformat(value)
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=TZ)

        return parse_iso
    spans = {m.group(0): (m.start(), m.end()) for m in _TOKEN.finditer(fmt)}
    literals = [(i, c) for i, c in enumerate(fmt) if not any(a <= i < b for a, b in spans.values())]
    width = len(fmt)
    order = [spans.get(t) for t in ("yyyy", "MM", "dd", "HH", "mm", "ss")]

    def parse_fixed(value: Any) -> datetime:
        if not isinstance(value, str) or len(value) != width or not value.isascii():
            raise ValueError(value)
        for i, c in literals:
            if value[i] != c:
                raise ValueError(value)
        parts = []
        for span in order:
            if span is None:
                parts.append(1 if len(parts) < 3 else 0)
                continue
            piece = value[span[0] : span[1]]
            if not piece.isdigit():
                raise ValueError(value)
            parts.append(int(piece))
        return datetime(*parts, tzinfo=TZ)

    return parse_fixed


def date_checker(fmt: str) -> Callable[[Any], bool]:
    """True when `value` is a real date-time in `fmt`; the fast path of validation.

    Fixed-width formats are matched by one regular expression (hours, minutes, seconds in
    range) and the calendar date is looked up in a small cache: a million card transactions
    share a few hundred dates.
    """
    if fmt in ("epoch_ms", "iso"):
        parse = date_parser(fmt)

        def check_parse(value: Any) -> bool:
            try:
                parse(value)
            except (ValueError, TypeError, OverflowError, OSError):
                return False
            return True

        return check_parse
    pieces = {"yyyy": r"(\d{4})", "MM": r"(\d{2})", "dd": r"(\d{2})", "HH": r"(?:[01]\d|2[0-3])",
              "mm": r"[0-5]\d", "ss": r"[0-5]\d"}  # fmt: skip
    pattern, last, order = "", 0, []
    for m in _TOKEN.finditer(fmt):
        pattern += re.escape(fmt[last : m.start()]) + pieces[m.group(0)]
        last = m.end()
        if m.group(0) in ("yyyy", "MM", "dd"):
            order.append(m.group(0))
    rx = re.compile(pattern + re.escape(fmt[last:]), re.ASCII)
    where = [order.index(t) if t in order else None for t in ("yyyy", "MM", "dd")]
    known: dict[tuple, bool] = {}

    def check_fixed(value: Any) -> bool:
        if type(value) is not str:
            return False
        m = rx.fullmatch(value)
        if m is None:
            return False
        found = m.groups()
        ok = known.get(found)
        if ok is None:
            y, mo, d = (1 if i is None else int(found[i]) for i in where)
            try:
                datetime(y, mo, d)
                ok = True
            except ValueError:
                ok = False
            known[found] = ok
        return ok

    return check_fixed


def format_date(value: datetime, fmt: str) -> str | int:
    """A window bound written the way a request parameter wants it."""
    local = value.astimezone(TZ)
    if fmt == "epoch_ms":
        return int(value.timestamp() * 1000)
    if fmt == "iso":
        return local.isoformat(timespec="seconds")
    return local.strftime(_TOKEN.sub(lambda m: _STRF[m.group(0)], fmt))


_STRF = {"yyyy": "%Y", "MM": "%m", "dd": "%d", "HH": "%H", "mm": "%M", "ss": "%S"}


# -- identity numbers ---------------------------------------------------------------------------


def gb11643_check_char(first17: str) -> str:
    return ID_CHECK[sum(int(c) * w for c, w in zip(first17, ID_WEIGHTS, strict=True)) % 11]


def gb11643_ok(value: str) -> bool:
    if len(value) != 18 or not value[:17].isdigit() or not value[:17].isascii():
        return False
    return gb11643_check_char(value[:17]) == value[17].upper()


def _mask(value: str) -> str:
    return value[:4] + "*" * max(len(value) - 8, 0) + value[-4:] if len(value) > 8 else value


# -- the validator of one resource --------------------------------------------------------------


Reject = tuple[str, str | None, str]  # reason_code, field, reason (Chinese)


def _blank(value: Any) -> bool:
    return value is None or value == ""


class Validator:
    """Checks one resource's records against its YAML field specs."""

    def __init__(self, resource):
        self.primary_key = resource.primary_key if resource.key_from == "record" else ()
        self._single = self.primary_key[0] if len(self.primary_key) == 1 else None
        self.required = tuple(f for f in resource.required if f not in self.primary_key)
        self.codes: list[tuple[str, str, dict[str, str]]] = []
        self.dates: list[tuple[str, str, Callable]] = []  # (field, format, checker)
        self.ids: list[str] = []
        for name, hint in resource.fields.items():
            if hint.code_set:
                self.codes.append((name, hint.code_set, code_set(hint.code_set)))
            if hint.format == "gb11643":
                self.ids.append(name)
            elif hint.format:
                self.dates.append((name, hint.format, date_checker(hint.format)))

    def key(self, record: dict) -> str | None:
        """The source key: primary-key values joined with `|` in the YAML's order."""
        if self._single:
            v = record.get(self._single)
            return None if v is None or v == "" else v if type(v) is str else str(v)
        parts = []
        for f in self.primary_key:
            v = record.get(f)
            if _blank(v):
                return None
            parts.append(v if isinstance(v, str) else str(v))
        return "|".join(parts)

    def check(self, record: Any, key: str | None) -> Reject | None:
        if not isinstance(record, dict):
            kind = type(record).__name__
            return (
                "not_json",
                None,
                f"记录不是 JSON 对象（收到 {kind}），无法落地；请源系统检查该接口的输出。",
            )
        if key is None:
            missing = next((f for f in self.primary_key if _blank(record.get(f))), None)
            f = missing or "|".join(self.primary_key) or "id"
            return (
                "missing_key",
                f,
                f"主键字段 {f} 缺失或为空，无法识别这条记录；请在源系统中补全 {f} 后重新提交。",
            )
        for f in self.required:
            v = record.get(f)
            if v is None or v == "":
                return ("missing_required", f, f"必填字段 {f} 缺失或为空；请在源系统中补填 {f}。")
        for f, name, codes in self.codes:
            v = record.get(f)
            if v is not None and v != "" and (v if type(v) is str else str(v)) not in codes:
                std = STANDARDS.get(name, name)
                sample = "、".join(f"{c} {n}" for c, n in list(codes.items())[:3])
                return (
                    "invalid_code",
                    f,
                    f"字段 {f} 的值 '{v}' 不在 {std} 中；请按该标准改为有效代码（如 {sample} …）。",
                )
        for f, fmt, ok in self.dates:
            v = record.get(f)
            if v is not None and v != "" and not ok(v):
                return (
                    "impossible_date",
                    f,
                    f"字段 {f} 的值 '{v}' 不是真实存在的日期（格式 {fmt}）；请在源系统中更正。",
                )
        for f in self.ids:
            v = record.get(f)
            if not _blank(v) and not gb11643_ok(str(v)):
                v = str(v)
                expected = (
                    f"校验位应为 {gb11643_check_char(v[:17])}"
                    if len(v) == 18 and v[:17].isdigit() and v[:17].isascii()
                    else "应为 18 位：17 位数字加 1 位校验码"
                )
                return (
                    "bad_id_checksum",
                    f,
                    f"字段 {f} 的身份证号 {_mask(v)} 不符合 GB 11643-1999（{expected}）；"
                    "请核对证件原件后更正。",
                )
        return None

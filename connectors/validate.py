"""Field-spec checks at landing: what a record must satisfy to enter `raw_<id>` (Article 11).

A record that fails is not dropped: it goes to `landing.rejects` with a reason code (the
sandbox's defect class names), the field, a Chinese reason that names the field and the fix,
and its raw text verbatim. Only the checks the YAML asks for are made: the primary key, the
`required:` fields, and per-field hints (`code_set:`, a date `format:`, `format: gb11643`).
New fields (schema drift) and odd text (SQL metacharacters, emoji, long strings) are not
defects and land verbatim.

Code sets, dates and the GB 11643 check are the rules of `include/rules/`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from include.rules import codes as code_sets
from include.rules import gb11643
from include.rules.dates import date_checker

# -- identity numbers ---------------------------------------------------------------------------


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
                self.codes.append((name, hint.code_set, code_sets.code_set(hint.code_set)))
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
        """The first defect of a record (reason code, field, Chinese reason), or None."""
        if not isinstance(record, dict):
            return _not_json(record)
        if key is None:
            return self._missing_key(record)
        return (
            self._missing_required(record)
            or self._bad_code(record)
            or self._bad_date(record)
            or self._bad_id(record)
        )

    def _missing_key(self, record: dict) -> Reject:
        missing = next((f for f in self.primary_key if _blank(record.get(f))), None)
        f = missing or "|".join(self.primary_key) or "id"
        return (
            "missing_key",
            f,
            f"主键字段 {f} 缺失或为空，无法识别这条记录；请在源系统中补全 {f} 后重新提交。",
        )

    def _missing_required(self, record: dict) -> Reject | None:
        for f in self.required:
            if _blank(record.get(f)):
                return ("missing_required", f, f"必填字段 {f} 缺失或为空；请在源系统中补填 {f}。")
        return None

    def _bad_code(self, record: dict) -> Reject | None:
        for f, name, codes in self.codes:
            v = record.get(f)
            if not _blank(v) and (v if type(v) is str else str(v)) not in codes:
                std = code_sets.standard(name)
                sample = "、".join(f"{c} {n}" for c, n in list(codes.items())[:3])
                return (
                    "invalid_code",
                    f,
                    f"字段 {f} 的值 '{v}' 不在 {std} 中；请按该标准改为有效代码（如 {sample} …）。",
                )
        return None

    def _bad_date(self, record: dict) -> Reject | None:
        for f, fmt, ok in self.dates:
            v = record.get(f)
            if not _blank(v) and not ok(v):
                return (
                    "impossible_date",
                    f,
                    f"字段 {f} 的值 '{v}' 不是真实存在的日期（格式 {fmt}）；请在源系统中更正。",
                )
        return None

    def _bad_id(self, record: dict) -> Reject | None:
        for f in self.ids:
            v = record.get(f)
            if not _blank(v) and not gb11643.valid(str(v)):
                return _bad_checksum(f, str(v))
        return None


def _not_json(record: Any) -> Reject:
    kind = type(record).__name__
    return (
        "not_json",
        None,
        f"记录不是 JSON 对象（收到 {kind}），无法落地；请源系统检查该接口的输出。",
    )


def _bad_checksum(f: str, v: str) -> Reject:
    expected = (
        f"校验位应为 {gb11643.check_char(v[:17])}"
        if len(v) == 18 and v[:17].isdigit() and v[:17].isascii()
        else "应为 18 位：17 位数字加 1 位校验码"
    )
    return (
        "bad_id_checksum",
        f,
        f"字段 {f} 的身份证号 {_mask(v)} 不符合 GB 11643-1999（{expected}）；"
        "请核对证件原件后更正。",
    )

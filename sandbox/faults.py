"""Injectable faults: request-level ones drawn per request, record-level ones fixed per record."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from . import codes
from .rng import stream, unit
from .spec import DRIFT_FIELD, Spec, Vendor

REQUEST_FAULTS = (
    "http_5xx",
    "rate_limit",
    "timeout",
    "token_expiry",
    "html_maintenance",
    "duplicates",
    "page_drift",
)
# The first five replace the response; at most one of them fires per request.
REPLACING = REQUEST_FAULTS[:5]
RECORD_FAULTS = ("malformed", "schema_drift", "hostile_strings")
SETTINGS = {"timeout_seconds": 3.0, "retry_after_seconds": 1}
DEFECT_CLASSES = (
    "missing_key",
    "missing_required",
    "invalid_code",
    "impossible_date",
    "bad_id_checksum",
)

HOSTILE = (
    "'; DROP TABLE students; --",
    "Robert'); DELETE FROM xsxx WHERE '1'='1",
    "设计作品🎨✨👍🏻 非常棒",
    "\u202e注意：文本方向被反转\u202c",
    "张\u200b三\u200d（含零宽字符）",
    "生僻字𠀀𪚥䶮龘",
    "<script>alert('xss')</script>",
    'C:\\new\\table "引号" \\u0041',
    "第一行\n第二行\t制表符\r\n",
    "很长的文本" * 2000,  # 10,000 characters
)


@dataclass
class Draw:
    """The faults that fire for one request."""

    replace: str | None = None
    duplicates: bool = False
    drift: int = 0
    variant: float = 0.0  # picks between the shapes a fault can take


class Faults:
    def __init__(self, seed: int, rates: dict | None = None):
        self.seed = seed
        self.rates = {name: 0.0 for name in (*REQUEST_FAULTS, *RECORD_FAULTS)} | dict(SETTINGS)
        self._counter = 0
        self._lock = threading.Lock()
        self.update(rates or {})

    def update(self, values: dict) -> bool:
        """Merge new rates/settings; True when record-level faults changed (views rebuild)."""
        unknown = set(values) - set(self.rates)
        if unknown:
            raise ValueError(f"未知的故障类型: {', '.join(sorted(unknown))}")
        before = self.record_rates()
        for name, value in values.items():
            value = float(value)
            if name not in SETTINGS and not 0.0 <= value <= 1.0:
                raise ValueError(f"故障比例必须在 0 到 1 之间: {name}={value}")
            self.rates[name] = value
        return before != self.record_rates()

    def record_rates(self) -> tuple:
        return tuple(self.rates[name] for name in RECORD_FAULTS)

    def draw(self) -> Draw:
        """Faults for the next request; fixed by (seed, request sequence number)."""
        with self._lock:
            self._counter += 1
            n = self._counter
        if not any(self.rates[name] for name in REQUEST_FAULTS):
            return Draw()
        rng = stream(self.seed, "request", n)
        rolls = {name: rng.random() for name in REQUEST_FAULTS}
        result = Draw(variant=rng.random())
        for name in REPLACING:
            if rolls[name] < self.rates[name]:
                result.replace = name
                break
        result.duplicates = rolls["duplicates"] < self.rates["duplicates"]
        if rolls["page_drift"] < self.rates["page_drift"]:
            result.drift = rng.choice((-2, -1, 1, 2))
        return result

    # ---- record-level ---------------------------------------------------------------

    def apply(self, spec: Spec, vendor: Vendor, key: str, record: dict) -> tuple[dict, dict | None]:
        """The record as served, and its defect if it was made malformed."""
        malformed, drift, hostile = self.record_rates()
        if not (malformed or drift or hostile):
            return record, None
        parts = (self.seed, spec.subsystem, spec.resource, key)
        hits = (
            malformed and unit(*parts, "malformed") < malformed,
            hostile and spec.text_fields and unit(*parts, "hostile") < hostile,
            drift and unit(*parts, "drift") < drift,
        )
        if not any(hits):
            return record, None
        record = dict(record)  # the stored record stays clean; only the served copy changes
        defect = self._break(spec, vendor, record, stream(*parts, "how")) if hits[0] else None
        if hits[1]:
            rng = stream(*parts, "hostile-text")
            record[rng.choice(spec.text_fields)] = rng.choice(HOSTILE)
        if hits[2]:
            record[DRIFT_FIELD[vendor.case]] = "扩展字段值"
        return record, defect

    def _break(self, spec: Spec, vendor: Vendor, record: dict, rng) -> dict:
        protected = {spec.cursor, *spec.key}
        required = [f for f in spec.required if f not in protected]
        options = ["missing_key"] if spec.key_in_record else []
        options += ["missing_required"] if required else []
        options += ["invalid_code"] if spec.codes else []
        options += ["impossible_date"] if spec.dates else []
        options += ["bad_id_checksum"] if spec.id_fields else []
        defect_class = rng.choice(options)
        if defect_class in ("missing_key", "missing_required"):
            name = rng.choice(spec.key if defect_class == "missing_key" else required)
            if rng.random() < 0.5 or vendor.null == "absent":
                record.pop(name, None)
            else:
                record[name] = ""
        elif defect_class == "invalid_code":
            name = rng.choice(sorted(spec.codes))
            record[name] = spec.codes[name]
        elif defect_class == "impossible_date":
            name = rng.choice(sorted(spec.dates))
            record[name] = spec.dates[name]
        else:
            name = rng.choice(spec.id_fields)
            record[name] = codes.wrong_check(record[name])
        return {"defect_class": defect_class, "field": name}

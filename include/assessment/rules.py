"""The assessment rules file (`rules.yml`, owned by 质管办): validated, versioned, hashed.

考核规则文件：权重、指标评分曲线与合格线均为数据；错误为一行中文，指明文件、字段与改法。
"""

from __future__ import annotations

import hashlib
import itertools
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from include import yamlfile

RULES_FILE = Path(__file__).with_name("rules.yml")
CRITERIA = ("a", "b", "c", "d")


class RulesError(ValueError):
    """The rules file is wrong; the message is one line naming the field and the fix."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Criterion(_Model):
    name: str
    weight: float = Field(ge=0)


class Indicator(_Model):
    criterion: Literal["b", "c", "d"]
    label: str
    unit: Literal["%", "‰", "小时"]  # a rate (分子/分母), per mille, or the mean wait in hours
    weight: float = Field(ge=0)
    curve: list[tuple[float, float]] = Field(min_length=2)
    within_days: float | None = None

    @field_validator("curve")
    @classmethod
    def _curve(cls, v):
        xs = [x for x, _ in v]
        if xs != sorted(xs) or len(set(xs)) != len(xs):
            raise ValueError("曲线的测量值须严格递增 (curve x values must increase)")
        if any(not 0 <= s <= 100 for _, s in v):
            raise ValueError("曲线得分须在 0–100 之间 (curve scores must be 0–100)")
        return v

    def score(self, value: float | None) -> float | None:
        """The indicator's score for `value`: linear between curve points, flat beyond."""
        if value is None:
            return None
        pts = self.curve
        if value <= pts[0][0]:
            return float(pts[0][1])
        for (x0, s0), (x1, s1) in itertools.pairwise(pts):
            if value <= x1:
                return float(s0 + (s1 - s0) * (value - x0) / (x1 - x0))
        return float(pts[-1][1])


class Veto(_Model):
    """一票否决: a department whose own indicator falls below `below` may not take part in the
    year's awards whatever its total (Article 16: poor organisation confirmed by a fact)."""

    indicator: str
    below: float
    reason: str


class Layered(_Model):
    managed_share: float = Field(ge=0, le=1)


class ReportsRule(_Model):
    period_kind: Literal["month"]
    due_days: int = Field(ge=0)


class Rules(_Model):
    version: str
    owner: str
    changed: str
    pass_line: float = Field(ge=0, le=100)
    criteria: dict[str, Criterion]
    missing_manual: Literal["exclude", "zero"]
    layered: Layered
    indicators: dict[str, Indicator]
    reports: ReportsRule
    appeal_window_days: int = Field(ge=0)
    recipients: list[Literal["leadership", "qmo"]]
    veto: list[Veto] = []

    @field_validator("version", mode="before")
    @classmethod
    def _version(cls, v):
        return str(v)

    @model_validator(mode="after")
    def _complete(self):
        if set(self.criteria) != set(CRITERIA):
            raise ValueError("criteria 须恰好包含 a、b、c、d 四项 (criteria must be a, b, c, d)")
        for name in ("warnings_acknowledged_rate", "warnings_resolved_rate"):
            if name in self.indicators and self.indicators[name].within_days is None:
                raise ValueError(f"indicators.{name} 须写 within_days（按期天数）")
        for i, v in enumerate(self.veto):
            if v.indicator not in self.indicators:
                raise ValueError(
                    f"veto[{i}].indicator: 指标 {v.indicator} 不在 indicators 中"
                    f"（可选：{', '.join(self.indicators)}）"
                )
        return self

    def indicators_of(self, criterion: str) -> dict[str, Indicator]:
        return {k: i for k, i in self.indicators.items() if i.criterion == criterion}


def load(path: Path | None = None) -> tuple[Rules, str, dict]:
    """(rules, SHA-256 of the file, the raw mapping); RulesError with one line when wrong."""
    path = path or RULES_FILE
    text = path.read_text(encoding="utf-8")
    try:
        data = yamlfile.load(text, path.name)
    except yamlfile.DuplicateKeyError as exc:
        raise RulesError(str(exc)) from None
    except yaml.YAMLError as exc:
        raise RulesError(f"{path.name}: 不是合法的 YAML（{exc}）；请按注释中的格式改正") from None
    try:
        rules = Rules.model_validate(data)
    except ValidationError as exc:
        e = exc.errors()[0]
        where = ".".join(str(p) for p in e["loc"]) or "（顶层）"
        raise RulesError(f"{path.name}: {where}: {e['msg']}；请改正后重跑") from None
    return rules, hashlib.sha256(text.encode()).hexdigest(), data

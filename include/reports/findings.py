"""The findings section: rules over a report's traced figures, each giving one plain Chinese
sentence. No free text: every number in a finding is a figure of the report.

发现：按规则从报告的数字生成（变差、未达标、逾期、迟报），每条一句中文。
"""

from __future__ import annotations

from dataclasses import dataclass

SEVERITY = {"高": 0, "中": 1, "低": 2}


@dataclass
class Finding:
    rule: str  # worse / missed_target / overdue / late / failed_pulls / missing_report /
    # correction_timed_out
    severity: str  # 高 / 中 / 低
    text: str
    figures: list[str]

    def as_dict(self) -> dict:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "text": self.text,
            "figures": self.figures,
        }


def _worse(direction: str, now: float, before: float) -> bool:
    return now < before if direction == "higher_is_better" else now > before


def evaluate(ctx, cfg: dict) -> list[Finding]:
    out: list[Finding] = []
    drop = float(cfg.get("pass_rate_drop_points", 1.0))
    for s, f in getattr(ctx, "status", {}).values():
        name = s.name_zh
        if f["overdue"] and f["overdue"].value:
            out.append(
                Finding(
                    "overdue",
                    "高",
                    f"{name}有 {f['overdue'].text()}预警逾期未解决，"
                    "应由责任人尽快处理并在平台上标记。",
                    [f["overdue"].key],
                )
            )
        if f["failed"] and f["failed"].value:
            out.append(
                Finding(
                    "failed_pulls",
                    "中",
                    f"{name}本期有 {f['failed'].text()}采集失败。",
                    [f["failed"].key],
                )
            )
        if f.get("not_submitted") and f["not_submitted"].value:
            out.append(
                Finding(
                    "not_submitted",
                    "高",
                    f"{name}本期有 {f['not_submitted'].text()}采集时数据尚未报送，"
                    f"应由{'、'.join(s.organising_departments)}按采集计划及时报送。",
                    [f["not_submitted"].key],
                )
            )
        lag = f["lag"]
        if lag and lag.value is not None and lag.value > s.plan.deadline_hours:
            out.append(
                Finding(
                    "late",
                    "中",
                    f"{name}最近一次成功采集距期末已 {lag.text()}，超过规定时限 "
                    f"{s.plan.deadline_hours} 小时。",
                    [lag.key],
                )
            )
        now, before = f["pass_rate"], f.get("pass_rate_prev")
        if now and before and now.value is not None and before.value is not None:
            if before.value - now.value > drop:
                out.append(
                    Finding(
                        "worse",
                        "中",
                        f"{name}检查通过率由上期 {before.text()} 降至 {now.text()}。",
                        [before.key, now.key],
                    )
                )
    for code, (point, figs) in getattr(ctx, "points", {}).items():
        if not figs:
            continue
        pids = list(figs)
        cur = figs[pids[-1]]
        prev = figs[pids[-2]] if len(pids) > 1 else None
        name = f"质控点 {code} {point['name_zh']}"
        if point["unit_type"] == "school":
            v = cur["value"]
            if v is None or v.value is None:
                continue
            std, tgt = float(point["standard_value"]), float(point["target_value"])
            higher = point["direction"] == "higher_is_better"
            if (v.value < std) if higher else (v.value > std):
                out.append(
                    Finding(
                        "missed_target",
                        "高",
                        f"{name}（{pids[-1]}）为 {v.text()}，未达到标准值 {std:g}{point['unit']}。",
                        [v.key],
                    )
                )
            elif (v.value < tgt) if higher else (v.value > tgt):
                out.append(
                    Finding(
                        "missed_target",
                        "低",
                        f"{name}（{pids[-1]}）为 {v.text()}，"
                        f"达到标准值但未达到目标值 {tgt:g}{point['unit']}。",
                        [v.key],
                    )
                )
            pv = prev["value"] if prev else None
            if pv and pv.value is not None and _worse(point["direction"], v.value, pv.value):
                out.append(
                    Finding(
                        "worse",
                        "中",
                        f"{name}由 {pids[-2]} 的 {pv.text()} 变为 "
                        f"{pids[-1]} 的 {v.text()}，较上期变差。",
                        [pv.key, v.key],
                    )
                )
        else:
            missed, units, rate = cur["missed"], cur["units"], cur["reach_rate"]
            if missed and units and missed.value:
                out.append(
                    Finding(
                        "missed_target",
                        "中" if ((rate and rate.value) or 0) >= 80 else "高",
                        f"{name}（{pids[-1]}）：{units.text()}统计单位中"
                        f" {missed.text()}未达标准值，"
                        f"达标率 {rate.text() if rate else '—'}。",
                        [k.key for k in (missed, units, rate) if k],
                    )
                )
            pr = prev["reach_rate"] if prev else None
            if rate and pr and rate.value is not None and pr.value is not None:
                if pr.value - rate.value > drop:
                    out.append(
                        Finding(
                            "worse",
                            "中",
                            f"{name}达标率由 {pids[-2]} 的 {pr.text()} "
                            f"降至 {pids[-1]} 的 {rate.text()}。",
                            [pr.key, rate.key],
                        )
                    )
    for name, figs in getattr(ctx, "corrections", {}).values():
        late = figs.get("timed_out")
        if late and late.value:
            forms = "、".join(c["form_no"] for c in late.corrections)
            out.append(
                Finding(
                    "correction_timed_out",
                    "中",
                    f"{name}本期有 {late.text()}数据更正表超时未办（{forms}），"
                    "数据仍为原值，应由填报人重新提交、签署人按时签署。",
                    [late.key],
                )
            )
    missing = [
        r["department"] for r in getattr(ctx, "report_rows", []) if not r.get("generated_at")
    ]
    if missing:
        out.append(
            Finding(
                "missing_report",
                "中",
                f"{len(missing)} 个部门本期分析报告缺报：{'、'.join(missing)}。",
                [],
            )
        )
    late = [r["department"] for r in getattr(ctx, "report_rows", []) if r.get("late")]
    if late:
        out.append(Finding("late_report", "低", f"{'、'.join(late)}的本期分析报告迟报。", []))
    out.sort(key=lambda f: SEVERITY[f.severity])
    return out[: int(cfg.get("max_findings", 12))]

"""Quality-control-point platforms: 专业建设与发展中心平台 (major clusters) and
校情分析与智能决策平台 (QMO-filled school-level base data)."""

from __future__ import annotations

import datetime as dt

from .. import codes
from ..rng import stream, unit
from ..spec import Spec
from ..timefmt import DATETIME, fmt_datetime
from .base import RUOYI, Domain, any_ts, office_ts

MAJOR_SPECS = (
    Spec(
        "major_development",
        "clusters",
        "/major_development/zyq/list",
        ("ZYQDM",),
        "GXSJ",
        DATETIME,
        ("ZYQDM", "ZYQMC", "YXDM", "FZRGH", "ZYDMS", "JSJB", "GXSJ"),
        ("ZYQDM", "ZYQMC", "FZRGH"),
        text_fields=("ZYQMC",),
    ),
    Spec(
        "major_development",
        "control_points",
        "/major_development/zkd/list",
        ("JLID",),
        "GXSJ",
        DATETIME,
        tuple("JLID ZYQDM ZYDM ZKDDM ZKDMC XN MBZ SJZ DCZT TBRGH TBSJ SHZT SHYJ GXSJ".split()),
        ("JLID", "ZYQDM", "ZKDDM", "TBRGH"),
        codes={"ZKDDM": "ZY99", "SHZT": "7"},
        dates={"TBSJ": "2026-09-31 10:00:00"},
        text_fields=("SHYJ",),
    ),
)
# 质控点 [I]: code, name, level (cluster or major), target
POINTS = [
    ("ZY01", "人才培养方案修订", "major", 1),
    ("ZY02", "专业调研报告", "major", 1),
    ("ZY03", "校企合作协议", "cluster", 5),
    ("ZY04", "实训基地建设", "cluster", 2),
    ("ZY05", "1+X证书试点", "cluster", 2),
    ("ZY06", "技能竞赛获奖", "cluster", 3),
    ("ZY07", "教学资源库建设", "cluster", 1),
    ("ZY08", "毕业生跟踪调查", "major", 1),
]


class MajorDevelopment(Domain):
    subsystem = "major_development"
    vendor = RUOYI
    specs = MAJOR_SPECS

    def build(self) -> None:
        rng = stream(self.seed, "major_development", "base")
        y = self.c.year
        for school in codes.SCHOOLS:
            leader = max(self.c.teachers(school), key=lambda s: (s.title_level, s.pid))
            members = [m.zydm for m in self.c.majors if m.jgdm == school]
            self.put(
                "clusters",
                f"ZYQ{school}",
                any_ts(rng, dt.date(y - 1, 3, 1), dt.date(y - 1, 7, 1)),
                {
                    "ZYQDM": f"ZYQ{school}",
                    "ZYQMC": codes.CLUSTER_NAMES[school],
                    "YXDM": school,
                    "FZRGH": leader.pid,
                    "ZYDMS": ",".join(members),
                    "JSJB": "省级一流特色专业群"
                    if school in ("101", "103", "105")
                    else "校级重点专业群",
                },
            )
        self.entries = []
        for year in (y - 1, y):
            for school in codes.SCHOOLS:
                majors = [m for m in self.c.majors if m.jgdm == school]
                for code, name, level, target in POINTS:
                    for major in majors if level == "major" else [None]:
                        self._plan(rng, year, school, major, code, name, target)

    def _plan(self, rng, year, school, major, code, name, target) -> None:
        key = f"ZKD{year}{school}{major.zydm if major else '000000'}{code}"
        fill = dt.date(year, 9, 1) + dt.timedelta(
            days=rng.randint(3, 80 if year == self.c.year else 200)
        )
        people = self.c.teachers(school)
        record = {
            "JLID": key,
            "ZYQDM": f"ZYQ{school}",
            "ZYDM": major.zydm if major else "",
            "ZKDDM": code,
            "ZKDMC": name,
            "XN": f"{year}-{year + 1}",
            "MBZ": str(target),
            "SJZ": "",
            "DCZT": "",
            "TBRGH": rng.choice(people).pid,
            "TBSJ": "",
            "SHZT": "0",
            "SHYJ": "",
        }
        self.at(office_ts(rng, fill), self._file, key, record, target, rng.random())

    def _file(self, ts: int, key: str, record: dict, target: int, roll: float) -> None:
        actual = max(0, round(target * (0.5 + roll)))
        state = "达成" if actual >= target else ("预警" if actual >= target * 0.7 else "未达成")
        record = dict(record, SJZ=str(actual), DCZT=state, TBSJ=fmt_datetime(ts), SHZT="0", SHYJ="")
        self.put("control_points", key, ts, record)
        audit = ts + int(1 + unit(self.seed, "audit", key, ts) * 6) * 86400
        self.at(audit, self._audit, key)

    def _audit(self, ts: int, key: str) -> None:
        record = dict(self.get("control_points", key))
        if unit(self.seed, "returned", key, ts) < 0.2 and record["SHYJ"] == "":
            record.update(SHZT="2", SHYJ="佐证材料不完整，请补充后重新提交")
            self.put("control_points", key, ts, record)
            self.at(ts + 3 * 86400, self._file, key, record, int(record["MBZ"]), 0.6)
        else:
            record.update(SHZT="1", SHYJ=record["SHYJ"] or "审核通过")
            self.put("control_points", key, ts, record)

    def day(self, d: dt.date) -> None:
        self.run_due(d)


DECISION_SPECS = (
    Spec(
        "decision",
        "base_data",
        "/decision/jcsj/list",
        ("XN", "ZBDM"),
        "GXSJ",
        DATETIME,
        ("XN", "ZBDM", "ZBMC", "ZBZ", "DW", "TBBM", "TBRGH", "GXSJ"),
        ("XN", "ZBDM", "ZBZ"),
        codes={"TBBM": "999"},
        text_fields=("ZBMC",),
    ),
)
# 指标 [I]: code, name, unit, value per 10,000 students (None = computed from other systems)
INDICATORS = [
    ("JC01", "占地面积", "平方米", 420000),
    ("JC02", "教学科研及辅助用房面积", "平方米", 150000),
    ("JC03", "学生宿舍面积", "平方米", 90000),
    ("JC04", "纸质图书", "册", 820000),
    ("JC05", "电子图书", "册", 1200000),
    ("JC06", "教学仪器设备总值", "万元", None),
    ("JC07", "教学用计算机", "台", 3600),
    ("JC08", "多媒体教室座位数", "个", 9000),
    ("JC09", "校内实践教学基地数", "个", 60),
    ("JC10", "校外实习基地数", "个", 180),
    ("JC11", "全日制在校生数", "人", None),
    ("JC12", "专任教师数", "人", None),
    ("JC13", "双师型教师数", "人", None),
]


class Decision(Domain):
    subsystem = "decision"
    vendor = RUOYI
    specs = DECISION_SPECS

    def build(self) -> None:
        y = self.c.year
        self.clerk = next((s for s in self.c.staff.values() if s.dept == "210"), None)
        for year in (y - 2, y - 1):
            rng = stream(self.seed, "decision", year)
            for code, name, unit_, per in INDICATORS:
                if year == y - 2:
                    ts = any_ts(rng, dt.date(y - 1, 10, 8), dt.date(y - 1, 10, 30))
                else:  # this report is filled during the first weeks of the new term
                    ts = office_ts(rng, self.ctx.start + dt.timedelta(days=rng.randint(2, 40)))
                self.at(ts, self._fill, year, code, name, unit_, per)

    def _computed(self, code: str) -> float:
        staff = self.c.staff.values()
        if code == "JC11":
            return sum(1 for s in self.c.in_school() if s.status in ("01", "02"))
        if code == "JC12":
            return sum(1 for s in staff if s.post == "专任教师" and s.state == "在职")
        if code == "JC13":
            return sum(1 for s in staff if s.post == "专任教师" and s.state == "在职" and s.dual)
        assets = self.ctx.store.tables.get(("assets", "assets"), {})
        cents = sum(r["je"] for _, r in assets.values() if r["sfjxky"] and r["zczt"] != "已报废")
        return round(cents / 1_000_000, 2)  # 分 -> 万元

    def _fill(self, ts: int, year: int, code: str, name: str, unit_: str, per) -> None:
        if per is None:
            value = self._computed(code)
        else:
            value = round(per * self.c.scale / 10000 * (0.97 if year < self.c.year - 1 else 1.0))
        self.put(
            "base_data",
            (f"{year}-{year + 1}", code),
            ts,
            {
                "XN": f"{year}-{year + 1}",
                "ZBDM": code,
                "ZBMC": name,
                "ZBZ": f"{value:.2f}" if unit_ == "万元" else str(int(value)),
                "DW": unit_,
                "TBBM": "210",
                "TBRGH": self.clerk.pid if self.clerk else "",
            },
        )

    def day(self, d: dt.date) -> None:
        self.run_due(d)

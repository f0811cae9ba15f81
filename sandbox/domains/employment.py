"""就业管理系统: graduates' 生源 data and destinations, changed only on the 10th/20th/30th."""

from __future__ import annotations

import datetime as dt

from .. import codes
from ..rng import stream
from ..spec import Spec
from ..timefmt import DATETIME, day_start, to_date
from .base import RUOYI, Domain, days

BAD = codes.INVALID
SPECS = (
    Spec(
        "employment",
        "graduates",
        "/employment/jy/sy/list",
        ("XH",),
        "GXSJ",
        DATETIME,
        tuple("XH XM XBM MZM ZZMMM SFZJH YXDM ZYDM ZYMC BYNF XLCC SYDM SJHM GXSJ".split()),
        tuple("XH XM XBM SFZJH ZYDM BYNF".split()),
        codes={"XBM": BAD["sex"], "MZM": BAD["nation"], "ZZMMM": BAD["political"]},
        id_fields=("SFZJH",),
        text_fields=("XM",),
    ),
    Spec(
        "employment",
        "destinations",
        "/employment/jy/qx/list",
        ("XH",),
        "GXSJ",
        DATETIME,
        tuple("XH BYNF BYQXDM BYQXMC DWMC DWXZMC DWSZDDM GZZWLBMC QYRQ ZYXGD GXSJ".split()),
        tuple("XH BYNF BYQXDM".split()),
        codes={"BYQXDM": "99"},
        dates={"QYRQ": "20260631"},
        text_fields=("DWMC",),
    ),
)
# 毕业去向 [I]: code, name, weight among graduates who found a destination
DESTINATIONS = [
    ("01", "签就业协议形式就业", 35),
    ("02", "签劳动合同形式就业", 25),
    ("03", "其他录用形式就业", 10),
    ("04", "自主创业", 3),
    ("05", "自由职业", 8),
    ("06", "应征义务兵", 1),
    ("07", "升学", 15),
    ("08", "出国出境", 1),
]
WAITING = ("70", "待就业")
EMPLOYERS = [
    "长沙{}文化创意有限公司",
    "湖南{}设计有限公司",
    "深圳市{}科技有限公司",
    "广州{}服饰有限公司",
    "醴陵{}陶瓷有限公司",
    "湖南{}传媒有限公司",
    "{}装饰工程有限公司",
    "湖南{}电子商务有限公司",
]
WORDS = ["华艺", "星辰", "楚韵", "湘艺", "匠心", "青禾", "麓山", "天瑞", "方圆", "新象"]
KINDS = ["民营企业", "民营企业", "民营企业", "国有企业", "三资企业", "事业单位", "其他"]
JOBS = ["设计人员", "工程技术人员", "商务人员", "文学艺术工作人员", "教学人员", "其他人员"]


def update_days(lo: dt.date, hi: dt.date):
    """The national system's reporting days: the 10th, 20th and 30th (28th/29th in February)."""
    for d in days(lo, hi):
        last = (d.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
        if d.day in (10, 20, 30) or (d.month == 2 and d == last):
            yield d


class Employment(Domain):
    subsystem = "employment"
    vendor = RUOYI
    specs = SPECS

    def build(self) -> None:
        y = self.c.year
        self.graduates = sorted(
            (s for s in self.c.students.values() if s.cohort == y - 3 and s.status == "04"),
            key=lambda s: s.pid,
        )
        rng = stream(self.seed, "employment", "base")
        for s in self.graduates:  # 生源 data issued in September of their final year
            self._source(s, rng.randint(9 * 3600, 22 * 3600) + day_start(dt.date(y - 1, 9, 20)))
        first = dt.date(y, 3, 10)
        for s in self.graduates:
            self._destination(s, WAITING, "", day_start(first) + rng.randint(9 * 3600, 22 * 3600))
        for d in update_days(first + dt.timedelta(days=1), self.ctx.start):
            self._update(d)
        self.issue = dt.date(y, 9, 20)
        if self.issue < self.ctx.start:
            self._issue_next(self.issue)

    def _source(self, s, ts: int) -> None:
        m = s.klass.major
        self.put(
            "graduates",
            s.pid,
            ts,
            {
                "XH": s.pid,
                "XM": self.c.served_name(s, "employment", "graduates"),
                "XBM": s.sex,
                "MZM": s.nation,
                "ZZMMM": s.political,
                "SFZJH": s.id_number,
                "YXDM": m.jgdm,
                "ZYDM": self.c.served_major_code(m.zydm, "employment", "graduates", s.pid),
                "ZYMC": m.zymc,
                "BYNF": str(s.cohort + 3),
                "XLCC": "专科",
                "SYDM": s.area,
                "SJHM": s.mobile,
            },
        )

    def _destination(self, s, dest: tuple[str, str], employer: str, ts: int, rng=None) -> None:
        code, name = dest
        employed = code not in ("70", "07", "08", "06")
        self.put(
            "destinations",
            s.pid,
            ts,
            {
                "XH": s.pid,
                "BYNF": str(s.cohort + 3),
                "BYQXDM": code,
                "BYQXMC": name,
                "DWMC": employer,
                "DWXZMC": rng.choice(KINDS) if employed and rng else "",
                "DWSZDDM": codes.pick_area(rng, 0.6) if employed and rng else "",
                "GZZWLBMC": rng.choice(JOBS) if employed and rng else "",
                "QYRQ": f"{to_date(ts):%Y%m%d}" if employed else "",
                "ZYXGD": ("是" if rng.random() < 0.7 else "否") if employed and rng else "",
            },
        )

    def _update(self, d: dt.date) -> None:
        rng = stream(self.seed, "employment", d)
        base = day_start(d)
        for s in self.graduates:
            current = self.get("destinations", s.pid)
            roll = rng.random()
            if current["BYQXDM"] == "70" and roll < 0.11:
                dest = rng.choices(DESTINATIONS, [w for *_, w in DESTINATIONS])[0][:2]
                employer = rng.choice(EMPLOYERS).format(rng.choice(WORDS))
                if dest[0] == "07":
                    employer = rng.choice(["湖南工业大学", "湖南科技学院", "长沙学院"])  # 专升本
                self._destination(s, dest, employer, base + rng.randint(9 * 3600, 22 * 3600), rng)
            elif current["BYQXDM"] in ("01", "02", "03") and roll > 0.985:  # changed employer
                employer = rng.choice(EMPLOYERS).format(rng.choice(WORDS))
                code = (current["BYQXDM"], current["BYQXMC"])
                self._destination(s, code, employer, base + rng.randint(9 * 3600, 22 * 3600), rng)

    def _issue_next(self, d: dt.date) -> None:
        """Next year's graduates' 生源 data arrive from the national system in September."""
        rng = stream(self.seed, "employment-issue", d)
        for s in self.c.students.values():
            if s.cohort == self.c.year - 2 and s.status in ("01", "02"):
                self._source(s, day_start(d) + rng.randint(9 * 3600, 22 * 3600))

    def day(self, d: dt.date) -> None:
        if next(update_days(d, d + dt.timedelta(days=1)), None):
            self._update(d)
        if d == self.issue:
            self._issue_next(d)

"""财务管理系统: budgets and expenditure vouchers, money in 元 as two-decimal strings."""

from __future__ import annotations

import datetime as dt

from .. import codes
from ..rng import stream
from ..spec import Spec
from ..timefmt import DATETIME
from .base import FINANCE, Domain, days, office_ts, poisson, weekday

SPECS = (
    Spec(
        "finance",
        "budgets",
        "/finance/api/budget/list",
        ("YSXMBH",),
        "GXSJ",
        DATETIME,
        tuple("YSXMBH YSXMMC ND BMDM BMMC ZJLY JJFLDM JJFLMC YSJE TZJE GXSJ".split()),
        tuple("YSXMBH YSXMMC ND BMDM YSJE".split()),
        money_unit="元",
        codes={"JJFLDM": "39999"},
        text_fields=("YSXMMC",),
    ),
    Spec(
        "finance",
        "expenditures",
        "/finance/api/expense/list",
        ("ZCLSH",),
        "GXSJ",
        DATETIME,
        tuple("ZCLSH PZH YSXMBH BMDM JJFLDM JJFLMC JE ZCRQ JBRGH ZY ZT GXSJ".split()),
        tuple("ZCLSH YSXMBH JE ZCRQ".split()),
        money_unit="元",
        codes={"JJFLDM": "39999"},
        dates={"ZCRQ": "2026-02-29"},
        text_fields=("ZY",),
    ),
)
# 政府支出经济分类 (部门预算) [I]: code, name, typical voucher in 元
ECONOMIC = [
    ("30201", "办公费", (50, 3000)),
    ("30202", "印刷费", (200, 20000)),
    ("30205", "水费", (2000, 30000)),
    ("30206", "电费", (5000, 120000)),
    ("30207", "邮电费", (50, 2000)),
    ("30211", "差旅费", (300, 8000)),
    ("30213", "维修(护)费", (500, 50000)),
    ("30215", "会议费", (1000, 30000)),
    ("30216", "培训费", (500, 20000)),
    ("30218", "专用材料费", (200, 40000)),
    ("30226", "劳务费", (500, 10000)),
    ("30227", "委托业务费", (5000, 200000)),
    ("31002", "办公设备购置", (3000, 80000)),
    ("31003", "专用设备购置", (10000, 500000)),
]
PURPOSE = {
    "30211": "赴{p}参加{m}",
    "30216": "{m}培训",
    "30218": "{m}实训耗材采购",
    "30215": "{m}工作会议",
    "30202": "{m}资料印制",
}
PLACES = ["北京", "上海", "广州", "深圳", "景德镇", "杭州", "成都", "苏州"]
EVENTS = ["全国职业院校技能大赛", "专业教学资源库建设", "诊改工作", "1+X证书考评", "新生入学教育"]


def yuan(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


class Finance(Domain):
    subsystem = "finance"
    vendor = FINANCE
    specs = SPECS

    def build(self) -> None:
        rng = stream(self.seed, "finance", "base")
        year = self.ctx.start.year
        self.budgets: list[tuple[str, str, str, tuple]] = []
        k = self.c.scale / 10000
        for code, name, _short, _kind in codes.UNITS:
            for n, econ in enumerate(rng.sample(ECONOMIC, 6)):
                key = f"YS{year}{code}{n + 1:02d}"
                amount = round(rng.randint(5, 300) * 10000 * k) * 100
                record = {
                    "YSXMBH": key,
                    "YSXMMC": f"{name}{year}年{econ[1]}",
                    "ND": str(year),
                    "BMDM": code,
                    "BMMC": name,
                    "ZJLY": rng.choice(["财政拨款", "事业收入", "其他收入"]),
                    "JJFLDM": econ[0],
                    "JJFLMC": econ[1],
                    "YSJE": yuan(amount),
                    "TZJE": yuan(amount),
                }
                self.put(
                    "budgets", key, office_ts(rng, dt.date(year, 1, rng.randint(5, 20))), record
                )
                self.budgets.append((key, code, econ[0], econ))
        self.vouchers = 0
        for d in days(dt.date(year, 1, 5), self.ctx.start):
            self._vouchers(d)

    def _vouchers(self, d: dt.date) -> None:
        rng = stream(self.seed, "finance", d)
        if not weekday(d):
            return
        for _ in range(poisson(rng, self.c.scale * 0.008)):
            key, dept, _, (code, name, (lo, hi)) = rng.choice(self.budgets)
            staff = [s for s in self.c.staff.values() if s.dept == dept] or list(
                self.c.staff.values()
            )
            ts = office_ts(rng, d)
            self.vouchers += 1
            serial = f"ZC{d:%Y%m%d}{self.vouchers:06d}"
            purpose = PURPOSE.get(code, "{m}" + name).format(
                p=rng.choice(PLACES), m=rng.choice(EVENTS)
            )
            record = {
                "ZCLSH": serial,
                "PZH": f"记-{d:%Y-%m}-{self.vouchers % 10000:04d}",
                "YSXMBH": key,
                "BMDM": dept,
                "JJFLDM": code,
                "JJFLMC": name,
                "JE": yuan(rng.randint(lo * 100, hi * 100)),
                "ZCRQ": d.isoformat(),
                "JBRGH": rng.choice(staff).pid,
                "ZY": purpose,
                "ZT": "已审核",
            }
            self.put("expenditures", serial, ts, record)
            self.at(ts + rng.randint(1, 5) * 86400, self._status, serial, "已支付")
            if rng.random() < 0.01:  # 冲销 weeks later: a wrong voucher is reversed
                self.at(ts + rng.randint(10, 30) * 86400, self._status, serial, "已冲销")

    def _status(self, ts: int, serial: str, status: str) -> None:
        record = dict(self.get("expenditures", serial))
        record["ZT"] = status
        self.put("expenditures", serial, ts, record)

    def day(self, d: dt.date) -> None:
        self._vouchers(d)
        rng = stream(self.seed, "finance-adjust", d)
        if weekday(d) and rng.random() < 0.2:  # 预算调整
            key = rng.choice(self.budgets)[0]
            record = dict(self.get("budgets", key))
            cents = int(record["TZJE"].replace(".", "")) + rng.randint(-50, 200) * 10000
            record["TZJE"] = yuan(max(cents, 0))
            self.put("budgets", key, office_ts(rng, d), record)
        self.run_due(d)

"""资产管理系统: asset cards with money in 分, served with a keyset cursor."""

from __future__ import annotations

import datetime as dt

from .. import codes
from ..rng import stream
from ..spec import Spec
from ..timefmt import DATETIME, to_date
from .base import OAUTH_CURSOR, Domain, any_ts, office_ts, poisson, weekday

SPECS = (
    Spec(
        "assets",
        "assets",
        "/assets/api/v2/assets",
        ("zcbh",),
        "updated_at",
        DATETIME,
        tuple(
            "zcbh zcmc flh flmc ggxh dj sl je gzrq rzrq sybmdm syrgh cfdd zczt sfjxky jfly "
            "updated_at".split()
        ),
        tuple("zcbh zcmc flh je gzrq".split()),
        money_unit="分",
        dates={"gzrq": "2024-02-30"},
        codes={"zczt": "丢失"},
        text_fields=("zcmc", "ggxh", "cfdd"),
    ),
)
# (分类号 [I, 政府采购品目-style], 分类名称, names, unit price range in 元, teaching equipment)
CATEGORIES = [
    ("A02010104", "台式计算机", ["台式计算机", "图形工作站", "一体机"], (4500, 28000), True, 30),
    ("A02010105", "便携式计算机", ["笔记本电脑"], (5000, 12000), False, 8),
    ("A02010103", "服务器", ["机架式服务器", "存储服务器"], (30000, 150000), True, 1),
    ("A02021000", "投影仪", ["激光投影仪", "教学投影机"], (6000, 30000), True, 6),
    (
        "A02040000",
        "摄影摄像设备",
        ["数码单反相机", "电影摄影机", "摄影灯光套装"],
        (8000, 180000),
        True,
        4,
    ),
    ("A02052200", "窑炉", ["电窑", "梭式气窑"], (60000, 350000), True, 0.5),
    (
        "A02052300",
        "数字加工设备",
        ["3D打印机", "激光雕刻机", "数控雕刻机"],
        (15000, 260000),
        True,
        2,
    ),
    ("A02061800", "缝纫刺绣设备", ["工业缝纫机", "电脑绣花机"], (3000, 90000), True, 3),
    ("A06010000", "家具用具", ["绘图桌", "画架", "办公桌", "学生课桌椅"], (300, 3000), False, 25),
    ("A02100000", "虚拟现实设备", ["VR头显", "动作捕捉系统"], (5000, 400000), True, 1),
    ("A02080000", "网络设备", ["交换机", "无线AP", "防火墙"], (1500, 60000), False, 5),
    ("A02020800", "多媒体教学设备", ["智慧黑板", "录播系统", "中控系统"], (15000, 200000), True, 4),
]
BUILDINGS = ["艺术楼A", "艺术楼B", "信息楼", "实训楼", "行政楼"]
STATES = ["在用", "闲置", "待报废", "已报废"]


class Assets(Domain):
    subsystem = "assets"
    vendor = OAUTH_CURSOR
    specs = SPECS

    def build(self) -> None:
        rng = stream(self.seed, "assets", "base")
        self.count = 0
        for _ in range(round(self.c.scale * 1.0)):
            ts = any_ts(rng, dt.date(self.c.year - 9, 1, 1), self.ctx.start)
            self._purchase(rng, ts)

    def _purchase(self, rng, ts: int) -> None:
        flh, flmc, names, (lo, hi), teaching, _ = rng.choices(
            CATEGORIES, [c[5] for c in CATEGORIES]
        )[0]
        dept = rng.choice(codes.SCHOOLS * 3 + codes.OFFICES)
        keepers = [s for s in self.c.staff.values() if s.dept == dept]
        qty = rng.randint(10, 60) if flmc == "家具用具" else 1
        price = rng.randint(lo, hi) * 100 + rng.choice([0, 0, 50])  # 分
        bought = to_date(ts)
        self.count += 1
        key = f"ZC{bought.year % 100:02d}{self.count:06d}"
        age = (self.ctx.start - bought).days / 365
        state = "在用" if age < 6 else rng.choices(STATES, [60, 15, 15, 10])[0]
        self.put(
            "assets",
            key,
            ts,
            {
                "zcbh": key,
                "zcmc": rng.choice(names),
                "flh": flh,
                "flmc": flmc,
                "ggxh": rng.choice(
                    [None, f"{rng.choice('ABCDEFGHKMRXZ')}{rng.randint(100, 9999)}"]
                ),
                "dj": price,
                "sl": qty,
                "je": price * qty,
                "gzrq": bought.isoformat(),
                "rzrq": (bought + dt.timedelta(days=rng.randint(0, 20))).isoformat(),
                "sybmdm": dept,
                "syrgh": rng.choice(keepers).pid if keepers else None,
                "cfdd": f"{rng.choice(BUILDINGS)}{rng.randint(101, 520)}",
                "zczt": state,
                "sfjxky": teaching,
                "jfly": rng.choice(["财政拨款", "事业收入", "科研经费", "自筹"]),
            },
        )

    def day(self, d: dt.date) -> None:
        rng = stream(self.seed, "assets", d)
        if not weekday(d):
            return
        for _ in range(poisson(rng, self.c.scale * 0.002)):
            self._purchase(rng, office_ts(rng, d))
        table = self.table("assets")
        keys = sorted(table)
        for _ in range(poisson(rng, self.c.scale * 0.0004)):
            record = dict(table[rng.choice(keys)][1])
            if record["zczt"] == "已报废":
                continue
            if rng.random() < 0.5:
                record["zczt"] = STATES[STATES.index(record["zczt"]) + 1]
            else:  # 调拨 to another department
                record["sybmdm"] = rng.choice(codes.SCHOOLS + codes.OFFICES)
            self.put("assets", record["zcbh"], office_ts(rng, d), record)

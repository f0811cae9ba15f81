"""科研管理系统: projects, papers, patents and social-service income (money in 万元)."""

from __future__ import annotations

import datetime as dt

from ..rng import stream
from ..spec import Spec
from ..timefmt import ISO_OFFSET, to_date
from .base import MYBATIS_LOWER, Domain, any_ts, office_ts, poisson, weekday

P = "/research/api/v1"


def _spec(resource, path, key, fields, required, **kw) -> Spec:
    return Spec(
        "research",
        resource,
        f"{P}/{path}",
        (key,),
        "updateTime",
        ISO_OFFSET,
        tuple(fields.split()),
        tuple(required.split()),
        **kw,
    )


SPECS = (
    _spec(
        "projects",
        "projects",
        "xmbh",
        "xmbh xmmc xmlb xmjb lxdw fzrgh fzrxm bmdm lxrq jhjxrq jxrq htjf dzjf xmzt updateTime",
        "xmbh xmmc xmlb fzrgh lxrq",
        money_unit="万元",
        dates={"lxrq": "2025-02-30"},
        codes={"xmlb": "其它"},
        text_fields=("xmmc",),
    ),
    _spec(
        "papers",
        "papers",
        "lwbh",
        "lwbh lwtm dyzzgh dyzzxm qtzz kwmc fbrq jqh slqk bmdm updateTime",
        "lwbh lwtm dyzzgh fbrq",
        dates={"fbrq": "2026-04-31"},
        text_fields=("lwtm", "qtzz"),
    ),
    _spec(
        "patents",
        "patents",
        "zlbh",
        "zlbh zlmc zllx sqh sqrq sqggrq zlzt fmrgh fmrxm bmdm updateTime",
        "zlbh zlmc zllx sqh sqrq",
        dates={"sqrq": "2025-13-01"},
        codes={"zllx": "软件著作权"},
        text_fields=("zlmc",),
    ),
    _spec(
        "social_services",
        "social-services",
        "fwbh",
        "fwbh xmmc fwlx hzdw htje dzje dzrq fzrgh fzrxm bmdm updateTime",
        "fwbh xmmc dzje dzrq",
        money_unit="万元",
        dates={"dzrq": "2026-06-31"},
        text_fields=("xmmc", "hzdw"),
    ),
)
TOPICS = [
    "乡村振兴",
    "非遗活态传承",
    "湖湘文化",
    "数字化转型",
    "产教融合",
    "课程思政",
    "文旅融合",
    "湘绣",
    "醴陵釉下五彩瓷",
    "菊花石雕",
    "长沙窑",
    "侗锦",
    "土家织锦",
    "虚拟仿真",
    "人工智能",
    "1+X证书",
    "现代学徒制",
    "红色文化",
]
SUFFIXES = ["研究", "实践研究", "路径探索", "创新设计研究", "应用研究", "传承与创新研究"]
LEVELS = [
    ("国家级", "全国教育科学规划领导小组办公室", 2),
    ("省部级", "湖南省教育厅", 18),
    ("省部级", "湖南省社会科学界联合会", 8),
    ("市厅级", "长沙市科学技术局", 15),
    ("校级", "湖南工艺美术职业学院", 40),
]
JOURNALS = [
    ("装饰", "CSSCI"),
    ("包装工程", "北大核心"),
    ("美术观察", "CSSCI"),
    ("中国职业技术教育", "北大核心"),
    ("职业技术教育", "北大核心"),
    ("丝绸", "北大核心"),
    ("陶瓷学报", "CSCD"),
    ("艺术教育", "普通期刊"),
    ("湖南包装", "普通期刊"),
    ("设计", "普通期刊"),
    ("美术大观", "普通期刊"),
    ("艺术科技", "普通期刊"),
    ("商业经济研究", "北大核心"),
    ("计算机应用与软件", "普通期刊"),
    ("湖南工艺美术职业学院学报", "普通期刊"),
    ("Journal of Physics: Conference Series", "EI"),
]
PARTNERS = [
    "湖南湘绣城有限公司",
    "醴陵市陶瓷产业协会",
    "长沙市文化旅游广电局",
    "湖南广电传媒有限公司",
    "益阳市资阳区人民政府",
    "湖南省非物质文化遗产保护中心",
    "长沙华为技术有限公司",
    "湖南中南出版传媒集团",
    "浏阳市花炮文化产业园",
    "湘西州民族文化馆",
]

SERVICES = ["品牌视觉设计", "文创产品开发", "员工技能培训", "展陈设计咨询", "数字化平台开发"]


def wan(yuan: float) -> float:
    return round(yuan / 10000, 4)


class Research(Domain):
    subsystem = "research"
    vendor = MYBATIS_LOWER
    specs = SPECS

    def build(self) -> None:
        self.researchers = sorted(
            (s for s in self.c.staff.values() if s.post == "专任教师"), key=lambda s: s.pid
        )
        rng = stream(self.seed, "research", "base")
        y = self.c.year
        lo = dt.date(y - 4, 1, 1)
        for _ in range(round(self.c.scale * 0.03)):
            self._new_project(rng, any_ts(rng, lo, self.ctx.start))
        for _ in range(round(self.c.scale * 0.05)):
            self._new_paper(rng, any_ts(rng, dt.date(y - 3, 1, 1), self.ctx.start))
        for _ in range(round(self.c.scale * 0.012)):
            self._new_patent(rng, any_ts(rng, dt.date(y - 3, 1, 1), self.ctx.start))
        for _ in range(round(self.c.scale * 0.04)):
            self._new_income(rng, any_ts(rng, dt.date(y - 2, 1, 1), self.ctx.start))

    def _person(self, rng):
        return rng.choice(self.researchers)

    def _title(self, rng) -> str:
        major = rng.choice(self.c.majors)
        return f"{rng.choice(TOPICS)}视域下{major.zymc}{rng.choice(SUFFIXES)}"

    def _new_project(self, rng, ts: int) -> None:
        who = self._person(rng)
        level, issuer, _ = rng.choices(LEVELS, [lv[2] for lv in LEVELS])[0]
        horizontal = rng.random() < 0.2
        start = to_date(ts)
        budget = rng.choice([0.5, 1, 2, 3, 5, 8, 10, 20, 30, 50]) * 10000
        key = f"KY{start.year}{len(self.table('projects')) + 1:05d}"
        record = {
            "xmbh": key,
            "xmmc": self._title(rng),
            "xmlb": "横向" if horizontal else "纵向",
            "xmjb": "横向" if horizontal else level,
            "lxdw": rng.choice(PARTNERS) if horizontal else issuer,
            "fzrgh": who.pid,
            "fzrxm": who.name,
            "bmdm": who.dept,
            "lxrq": start.isoformat(),
            "jhjxrq": (start + dt.timedelta(days=rng.choice([365, 730, 1095]))).isoformat(),
            "jxrq": None,
            "htjf": wan(budget),
            "dzjf": wan(budget * rng.choice([0, 0.3, 0.5])),
            "xmzt": "在研",
        }
        self.put("projects", key, ts, record)
        close = ts + rng.randint(300, 1200) * 86400
        self.at(close, self._close_project, key, rng.random())

    def _close_project(self, ts: int, key: str, roll: float) -> None:
        record = dict(self.get("projects", key))
        record.update(
            xmzt="终止" if roll < 0.05 else "结题",
            dzjf=record["htjf"],
            jxrq=to_date(ts).isoformat(),
        )
        self.put("projects", key, ts, record)

    def _new_paper(self, rng, ts: int) -> None:
        who = self._person(rng)
        journal, indexed = rng.choice(JOURNALS)
        others = rng.sample(self.researchers, k=min(len(self.researchers), rng.randint(0, 3)))
        day = to_date(ts)
        key = f"LW{day.year}{len(self.table('papers')) + 1:05d}"
        self.put(
            "papers",
            key,
            ts,
            {
                "lwbh": key,
                "lwtm": self._title(rng).replace("研究", "探析"),
                "dyzzgh": who.pid,
                "dyzzxm": who.name,
                "qtzz": "、".join(o.name for o in others if o.pid != who.pid) or None,
                "kwmc": journal,
                "fbrq": (day - dt.timedelta(days=rng.randint(10, 90))).isoformat(),
                "jqh": f"{day.year}年第{rng.randint(1, 12)}期",
                "slqk": indexed,
                "bmdm": who.dept,
            },
        )

    def _new_patent(self, rng, ts: int) -> None:
        who = self._person(rng)
        kind = rng.choices(["发明专利", "实用新型", "外观设计"], [15, 35, 50])[0]
        day = to_date(ts)
        digit = {"发明专利": 1, "实用新型": 2, "外观设计": 3}[kind]
        key = f"ZL{day.year}{len(self.table('patents')) + 1:05d}"
        self.put(
            "patents",
            key,
            ts,
            {
                "zlbh": key,
                "zlmc": f"一种{rng.choice(TOPICS)}主题的{rng.choice(self.c.majors).subject}装置",
                "zllx": kind,
                "sqh": f"CN{day.year}{digit}{rng.randrange(10**7):07d}.{rng.randint(0, 9)}",
                "sqrq": day.isoformat(),
                "sqggrq": None,
                "zlzt": "申请中",
                "fmrgh": who.pid,
                "fmrxm": who.name,
                "bmdm": who.dept,
            },
        )
        grant = ts + rng.randint(120, 700) * 86400
        self.at(grant, self._grant, key)

    def _grant(self, ts: int, key: str) -> None:
        record = dict(self.get("patents", key))
        record.update(zlzt="已授权", sqggrq=to_date(ts).isoformat())
        self.put("patents", key, ts, record)

    def _new_income(self, rng, ts: int) -> None:
        who = self._person(rng)
        contract = rng.choice([2, 5, 8, 10, 15, 30, 50, 80]) * 10000
        day = to_date(ts)
        key = f"FW{day.year}{len(self.table('social_services')) + 1:05d}"
        self.put(
            "social_services",
            key,
            ts,
            {
                "fwbh": key,
                "xmmc": f"{rng.choice(PARTNERS)}{rng.choice(SERVICES)}",
                "fwlx": rng.choice(["技术服务", "技术开发", "技术咨询", "培训服务"]),
                "hzdw": rng.choice(PARTNERS),
                "htje": wan(contract),
                "dzje": wan(contract * rng.choice([0.3, 0.5, 1.0])),
                "dzrq": day.isoformat(),
                "fzrgh": who.pid,
                "fzrxm": who.name,
                "bmdm": who.dept,
            },
        )

    def day(self, d: dt.date) -> None:
        rng = stream(self.seed, "research", d)
        if weekday(d):
            k = self.c.scale / 10000
            for _ in range(poisson(rng, 0.15 * k)):
                self._new_project(rng, office_ts(rng, d))
            for _ in range(poisson(rng, 0.5 * k)):
                self._new_paper(rng, office_ts(rng, d))
            for _ in range(poisson(rng, 0.06 * k)):
                self._new_patent(rng, office_ts(rng, d))
            for _ in range(poisson(rng, 0.3 * k)):
                self._new_income(rng, office_ts(rng, d))
        self.run_due(d)

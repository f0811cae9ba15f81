"""招生管理系统: this year's plans, applicants and the registration of admitted freshmen."""

from __future__ import annotations

import datetime as dt

from .. import codes, names
from ..rng import stream
from ..spec import Spec
from ..timefmt import DATETIME, fmt_datetime
from .base import MYBATIS_UPPER, Domain, any_ts, office_ts

P = "/admissions/api/v1"
BAD = codes.INVALID


def _spec(resource, key, fields, required, **kw) -> Spec:
    return Spec(
        "admissions",
        resource,
        f"{P}/{resource}",
        (key,),
        "GXSJ",
        DATETIME,
        tuple(fields.split()),
        tuple(required.split()),
        **kw,
    )


SPECS = (
    _spec(
        "plans",
        "JHBH",
        "JHBH ND SFDM SFMC ZYDM ZYMC KLMC PCMC JHS GXSJ",
        "JHBH ND SFDM ZYDM JHS",
        codes={"SFDM": "990000"},
        text_fields=("ZYMC",),
    ),
    _spec(
        "applicants",
        "KSH",
        "KSH XM XBM CSRQ MZM SFZJH SFDM KLMC PCMC ZF ZYZY1 LQZYDM LQZT GXSJ",
        "KSH XM XBM SFZJH SFDM",
        codes={"XBM": BAD["sex"], "MZM": BAD["nation"]},
        dates={"CSRQ": "20080230"},
        id_fields=("SFZJH",),
        text_fields=("XM",),
    ),
    _spec(
        "enrolments",
        "KSH",
        "KSH XH XM LQZYDM BDZT BDSJ GXSJ",
        "KSH XH BDZT",
        codes={"BDZT": "9"},
        text_fields=("XM",),
    ),
)
TRACKS = ["历史类", "物理类", "艺术类(历史)", "艺术类(物理)"]
BATCHES = ["单独招生", "提前批", "普通批"]


class Admissions(Domain):
    subsystem = "admissions"
    vendor = MYBATIS_UPPER
    specs = SPECS

    def build(self) -> None:
        y = self.c.year
        rng = stream(self.seed, "admissions", "base")
        freshmen = [s for s in self.c.students.values() if s.cohort == y]
        provinces = ["430000"] * 6 + sorted(codes.PROVINCES)[:8]
        plan_no = 0
        for major in self.c.majors:
            if not major.enrolling:
                continue
            taken = sum(1 for s in freshmen if s.klass.major is major)
            for prov in sorted(set(provinces)):
                share = 0.82 if prov == "430000" else 0.025
                plan = round(taken * share * rng.uniform(1.0, 1.15))
                if plan == 0:
                    continue
                plan_no += 1
                key = f"JH{y}{plan_no:04d}"
                code = self.c.served_major_code(major.zydm, "admissions", "plans", key)
                self.put(
                    "plans",
                    key,
                    any_ts(rng, dt.date(y, 4, 1), dt.date(y, 5, 20)),
                    {
                        "JHBH": key,
                        "ND": str(y),
                        "SFDM": prov,
                        "SFMC": codes.PROVINCES[prov],
                        "ZYDM": code,
                        "ZYMC": major.zymc,
                        "KLMC": rng.choice(TRACKS),
                        "PCMC": rng.choices(BATCHES, [30, 20, 50])[0],
                        "JHS": plan,
                    },
                )
        self.ksh: dict[str, str] = {}
        for s in freshmen:
            self._applicant(rng, s.pid, s, admitted=True)
        for n in range(round(len(freshmen) * 0.5)):  # applicants who were not admitted
            male = rng.random() < 0.45
            nation = rng.choice(["01"] * 20 + ["15", "06"])
            birth = dt.date(y - 18, 1, 1) + dt.timedelta(days=rng.randint(-300, 500))
            area = codes.pick_area(rng)
            person = {
                "name": names.person_name(rng, male, nation),
                "sex": "1" if male else "2",
                "birth": birth,
                "nation": nation,
                "area": area,
                "id_number": codes.id_number(area, birth.strftime("%Y%m%d"), 400 + n, male),
            }
            self._applicant(rng, f"N{n}", person, admitted=False)

    def _applicant(self, rng, who: str, person, admitted: bool) -> None:
        y = self.c.year
        get = person.get if isinstance(person, dict) else lambda k: getattr(person, k)
        area = get("area")
        ksh = f"{y % 100:02d}{area[:2]}{rng.randrange(10**10):010d}"
        major = person.klass.major if admitted else rng.choice(self.c.majors)
        lq = (
            self.c.served_major_code(major.zydm, "admissions", "applicants", ksh)
            if admitted
            else None
        )
        ts = any_ts(rng, dt.date(y, 7, 10), dt.date(y, 8, 10))
        self.put(
            "applicants",
            ksh,
            ts,
            {
                "KSH": ksh,
                "XM": get("name"),
                "XBM": get("sex"),
                "CSRQ": get("birth").strftime("%Y%m%d"),
                "MZM": get("nation"),
                "SFZJH": get("id_number"),
                "SFDM": area[:2] + "0000",
                "KLMC": rng.choice(TRACKS),
                "PCMC": rng.choices(BATCHES, [30, 20, 50])[0],
                "ZF": round(rng.uniform(200, 520), 1),
                "ZYZY1": major.zydm,
                "LQZYDM": lq,
                "LQZT": "1" if admitted else rng.choice(["0", "0", "0", "2"]),
            },
        )
        if admitted:
            self.ksh[who] = ksh
            self.put(
                "enrolments",
                ksh,
                office_ts(rng, dt.date(y, 8, 20)),
                {
                    "KSH": ksh,
                    "XH": who,
                    "XM": person.name,
                    "LQZYDM": lq,
                    "BDZT": "0",
                    "BDSJ": None,
                },
            )

    def day(self, d: dt.date) -> None:
        if d > self.ctx.start + dt.timedelta(days=14):
            return
        rng = stream(self.seed, "admissions", d)
        academic = self.ctx.domains["academic"]
        for xh, ksh in self.ksh.items():
            when, status = academic.registration(xh)
            if when == d:
                ts = office_ts(rng, d)
                record = dict(self.get("enrolments", ksh))
                record.update(
                    BDZT="1" if status == "01" else "2",
                    BDSJ=fmt_datetime(ts) if status == "01" else None,
                )
                self.put("enrolments", ksh, ts, record)

"""The college itself: organisation, majors, classes, students and staff.

Everything here is built eagerly from (seed, scale, start); subsystems only format it.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from . import codes, names
from .rng import stream, unit


@dataclass(slots=True)
class Major:
    zyh_id: str
    zydm: str
    zymc: str
    subject: str
    family: str
    jgdm: str
    seq: int
    founded: int
    enrolling: bool


@dataclass(slots=True)
class Klass:
    bh_id: str
    name: str
    cohort: int
    major: Major
    counsellor: str = ""
    students: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Person:
    pid: str  # 学号 or 工号
    name: str
    sex: str
    birth: dt.date
    nation: str
    political: str
    id_number: str
    area: str
    mobile: str
    card_no: str = ""
    acc_num: str = ""


@dataclass(slots=True)
class Student(Person):
    cohort: int = 0
    klass: Klass | None = None
    status: str = "01"
    ability: float = 0.0


@dataclass(slots=True)
class Staff(Person):
    dept: str = ""
    post: str = ""
    title: str = "无"
    title_level: str = "无"
    education: str = "21"
    dual: bool = False
    hired: dt.date = dt.date(2010, 9, 1)
    state: str = "在职"
    userid: str = ""


STATUS = {
    "01": "在读",
    "02": "休学",
    "03": "退学",
    "04": "毕业",
    "05": "未报到",
    "06": "放弃入学",
}


class College:
    """One coherent college. ``scale`` is the number of students in school (3 cohorts)."""

    def __init__(self, seed: int, scale: int, start: dt.date, noise: dict[str, float]):
        self.seed = seed
        self.scale = scale
        self.start = start
        self.year = start.year if start.month >= 8 else start.year - 1  # academic year
        self.noise_rates = noise
        self.noise_log: dict[tuple, dict] = {}
        self.teaching = None  # set by the academic subsystem, which owns the course plan
        self.majors: list[Major] = []
        self.classes: list[Klass] = []
        self.students: dict[str, Student] = {}
        self.staff: dict[str, Staff] = {}
        self._build_majors()
        self._build_staff()
        self._build_students()
        self._assign_cards()

    # ---- organisation ---------------------------------------------------------------

    def _build_majors(self) -> None:
        rng = stream(self.seed, "majors")
        for s_index, school in enumerate(codes.SCHOOLS, start=1):
            for m_index, (code, name, subject, family) in enumerate(codes.MAJORS[school], 1):
                founded = rng.choice([2002, 2005, 2008, 2012, 2016])
                if code in ("510209", "460105"):
                    founded = self.year - 1  # new majors: no older cohorts
                enrolling = code != "550107"  # 书画艺术 stopped recruiting this year
                self.majors.append(
                    Major(
                        f"Z{school}{m_index:02d}",
                        code,
                        name,
                        subject,
                        family,
                        school,
                        s_index * 100 + m_index,
                        founded,
                        enrolling,
                    )
                )

    def school_seq(self, jgdm: str) -> int:
        return codes.SCHOOLS.index(jgdm) + 1

    # ---- people ---------------------------------------------------------------------

    def _person(self, rng, pid: str, birth: dt.date, female_share: float, seq: int) -> dict:
        male = rng.random() >= female_share
        nation = rng.choices(
            [c for c, _ in codes.NATION_WEIGHTS], [w for _, w in codes.NATION_WEIGHTS]
        )[0]
        area = codes.pick_area(rng)
        return {
            "pid": pid,
            "name": names.person_name(rng, male, nation),
            "sex": "1" if male else "2",
            "birth": birth,
            "nation": nation,
            "area": area,
            "id_number": codes.id_number(area, birth.strftime("%Y%m%d"), seq, male),
            "mobile": "1" + rng.choice("35789") + f"{rng.randrange(10**9):09d}",
        }

    def _build_staff(self) -> None:
        rng = stream(self.seed, "staff")
        total = max(40, round(self.scale * 0.06))
        n_counsellors = max(len(codes.SCHOOLS), self.scale // 200)
        n_teachers = max(3 * len(codes.SCHOOLS) + 4, round(total * 0.58))
        n_office = max(len(codes.OFFICES), total - n_counsellors - n_teachers)
        posts: list[tuple[str, str]] = []
        for i in range(n_teachers):
            share = i / n_teachers
            if share < 0.12:
                dept = "111"
            elif share < 0.18:
                dept = "112"
            else:
                dept = codes.SCHOOLS[i % len(codes.SCHOOLS)]
            posts.append((dept, "专任教师"))
        posts += [(codes.SCHOOLS[i % len(codes.SCHOOLS)], "辅导员") for i in range(n_counsellors)]
        offices = [c for c in codes.OFFICES if c not in ("111", "112")]
        for i in range(n_office):
            dept = offices[i % len(offices)] if i < 2 * len(offices) else rng.choice(offices)
            posts.append((dept, rng.choice(["行政", "行政", "教辅", "工勤"])))
        userids = rng.sample(range(10**15, 10**16), len(posts))
        for i, (dept, post) in enumerate(posts):
            hired_year = rng.randint(1992, self.year)
            age_at_hire = rng.randint(23, 35)
            birth = dt.date(hired_year - age_at_hire, rng.randint(1, 12), rng.randint(1, 28))
            gh = f"{hired_year % 100:02d}{i + 1:04d}"
            base = self._person(rng, gh, birth, 0.55, i)
            teacher = post == "专任教师"
            if teacher:
                title, level, _ = rng.choices(codes.TITLES, [t[2] for t in codes.TITLES])[0]
                education = rng.choices(["11", "14", "21"], [6, 64, 30])[0]
            else:
                title, level = rng.choice([("无", "无"), ("讲师", "中级"), ("助教", "初级")])
                education = rng.choices(["14", "21", "31"], [35, 55, 10])[0]
            state = rng.choices(["在职", "退休", "离职"], [96, 3, 1])[0]
            self.staff[gh] = Staff(
                **base,
                political=rng.choices(["01", "13", "05", "10", "12"], [62, 30, 3, 3, 2])[0],
                dept=dept,
                post=post,
                title=title,
                title_level=level,
                education=education,
                dual=teacher and rng.random() < 0.58,
                hired=min(
                    dt.date(hired_year, rng.choice([3, 7, 9]), rng.randint(1, 28)),
                    self.start - dt.timedelta(days=rng.randint(7, 60)),
                ),
                state=state,
                userid=str(userids[i]),
            )

    def teachers(self, dept: str) -> list[Staff]:
        return [s for s in self.staff.values() if s.dept == dept and s.post == "专任教师"] or [
            s for s in self.staff.values() if s.post == "专任教师"
        ]

    def counsellors(self, dept: str) -> list[Staff]:
        return [s for s in self.staff.values() if s.dept == dept and s.post == "辅导员"]

    def _build_students(self) -> None:
        cohorts = [self.year - 3, self.year - 2, self.year - 1, self.year]
        per_cohort = self.scale / 3
        for cohort in cohorts:
            rng = stream(self.seed, "students", cohort)
            majors = [m for m in self.majors if m.founded <= cohort]
            if cohort == self.year:
                majors = [m for m in majors if m.enrolling]
            weights = [rng.uniform(0.5, 1.6) for _ in majors]
            size = per_cohort * (0.95 if cohort == self.year - 3 else 1.0)
            counts = [max(1, round(size * w / sum(weights))) for w in weights]
            for major, n in zip(majors, counts, strict=True):
                self._build_major_cohort(rng, cohort, major, n)

    def _build_major_cohort(self, rng, cohort: int, major: Major, n: int) -> None:
        n_classes = max(1, math.ceil(n / 48))
        female = {"design": 0.64, "computing": 0.38, "business": 0.6}[major.family]
        counsellors = self.counsellors(major.jgdm)
        for c in range(n_classes):
            bh_id = f"{cohort}{self.school_seq(major.jgdm):02d}{major.seq % 100:02d}{c + 1:02d}"
            klass = Klass(bh_id, f"{major.zymc}{cohort % 100:02d}{c + 1:02d}班", cohort, major)
            klass.counsellor = counsellors[(c + cohort) % len(counsellors)].pid
            self.classes.append(klass)
            size = n // n_classes + (1 if c < n % n_classes else 0)
            for k in range(size):
                xh = f"{bh_id}{k + 1:02d}"
                birth = dt.date(cohort - 18, 1, 1) + dt.timedelta(days=rng.randint(-300, 500))
                base = self._person(rng, xh, birth, female, len(self.students))
                status = "01"
                if cohort == self.year - 3:
                    status = "04" if rng.random() > 0.02 else "03"
                elif cohort == self.year:
                    status = "05"  # imported from admissions; registers in the first days
                else:
                    status = rng.choices(["01", "02", "03"], [97.5, 1.2, 1.3])[0]
                self.students[xh] = Student(
                    **base,
                    political=rng.choices(["03", "13", "02", "01"], [80, 18, 1.5, 0.5])[0],
                    cohort=cohort,
                    klass=klass,
                    status=status,
                    ability=rng.gauss(0, 1),
                )
                klass.students.append(xh)

    def _assign_cards(self) -> None:
        rng = stream(self.seed, "cards")
        people: list[Person] = [*self.students.values(), *self.staff.values()]
        card_numbers = rng.sample(range(30000000, 39999999), len(people))
        for i, (person, card) in enumerate(zip(people, card_numbers, strict=True)):
            person.card_no = str(card)
            person.acc_num = str(1000001 + i)

    # ---- views used by several subsystems -------------------------------------------

    def in_school(self) -> list[Student]:
        return [s for s in self.students.values() if s.cohort >= self.year - 2]

    def cohort_term(self, cohort: int, xnm: int, xqm: str) -> int:
        """1-based term number of a cohort in (xnm, xqm); 1 = first term after entry."""
        return (xnm - cohort) * 2 + (1 if xqm == "3" else 2)

    # ---- identity noise -------------------------------------------------------------

    def served_name(self, person: Person, subsystem: str, resource: str) -> str:
        """The name as ``subsystem`` holds it: occasionally a variant (logged as noise)."""
        rate = self.noise_rates.get("name_variant", 0.0)
        if unit(self.seed, "name_variant", subsystem, person.pid) >= rate:
            return person.name
        served = names.variant(
            stream(self.seed, "name_variant", subsystem, person.pid), person.name
        )
        self.log_noise("name_variant", subsystem, resource, person.pid, "name", person.name, served)
        return served

    def served_major_code(self, code: str, subsystem: str, resource: str, who: str) -> str:
        rate = self.noise_rates.get("stale_major_code", 0.0)
        if unit(self.seed, "stale_major_code", subsystem, who) >= rate:
            return code
        served = codes.stale_code(code)
        self.log_noise("stale_major_code", subsystem, resource, who, "zydm", code, served)
        return served

    def mapping_missing(self, subsystem: str, who: str) -> bool:
        rate = self.noise_rates.get("missing_mapping", 0.0)
        return unit(self.seed, "missing_mapping", subsystem, who) < rate

    def log_noise(self, kind, subsystem, resource, who, field_, true_value, served) -> None:
        self.noise_log[(kind, subsystem, resource, who, field_)] = {
            "kind": kind,
            "subsystem": subsystem,
            "resource": resource,
            "person": who,
            "field": field_,
            "true_value": true_value,
            "served_value": served,
        }

"""Courses, teaching sections and the timetable: shared by academic and online_teaching."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from .college import College, Klass
from .rng import stream

# (unit, name, term, credits, category A/B/C)
PUBLIC_COURSES = [
    ("112", "思想道德与法治", 1, 3, "A"),
    ("111", "大学英语", 1, 4, "A"),
    ("111", "大学体育", 1, 2, "B"),
    ("111", "军事理论", 1, 2, "A"),
    ("113", "大学生职业生涯规划", 1, 1, "A"),
    ("112", "毛泽东思想和中国特色社会主义理论体系概论", 2, 2, "A"),
    ("111", "信息技术", 2, 3, "B"),
    ("111", "大学生心理健康教育", 2, 2, "A"),
    ("112", "习近平新时代中国特色社会主义思想概论", 3, 3, "A"),
    ("111", "中华优秀传统文化", 3, 2, "A"),
    ("111", "劳动教育", 3, 1, "C"),
    ("112", "形势与政策", 4, 1, "A"),
    ("111", "艺术鉴赏", 4, 2, "A"),
    ("113", "创新创业基础", 4, 2, "B"),
    ("113", "就业指导", 5, 1, "A"),
]
MAJOR_TEMPLATES = {
    "design": [
        "设计素描",
        "设计色彩",
        "平面构成",
        "色彩构成",
        "中外设计史",
        "图形图像处理",
        "{s}设计基础",
        "{s}手绘表现",
        "{s}材料与工艺",
        "{s}专题设计",
        "{s}数字化表现",
        "{s}项目实训",
        "{s}作品集设计",
        "{s}市场调研与策划",
        "{s}创新设计",
    ],
    "computing": [
        "程序设计基础",
        "计算机网络基础",
        "数据库技术",
        "Web前端开发",
        "Linux操作系统",
        "Python程序设计",
        "{s}导论",
        "{s}核心技术",
        "数据结构",
        "软件测试",
        "{s}项目开发",
        "{s}综合实训",
        "云计算基础",
        "{s}工程实践",
        "信息安全基础",
    ],
    "business": [
        "管理学基础",
        "经济学基础",
        "市场营销基础",
        "商务数据分析",
        "网店运营",
        "客户关系管理",
        "{s}概论",
        "{s}实务",
        "新媒体营销",
        "消费者行为分析",
        "{s}综合实训",
        "物流管理基础",
        "{s}项目策划",
        "财务管理基础",
        "商务礼仪",
    ],
}
NATURE = {
    "01": "公共基础课",
    "02": "专业基础课",
    "03": "专业核心课",
    "04": "专业拓展课",
    "05": "集中实践课",
}
BUILDINGS = ["艺术楼A", "艺术楼B", "工艺实训楼", "信息楼", "综合楼", "设计大楼"]
PERIODS = ["1-2", "3-4", "5-6", "7-8"]


@dataclass(slots=True)
class Course:
    kch: str
    name: str
    credits: float
    hours: int
    nature: str
    category: str
    unit: str
    term: int


@dataclass(slots=True)
class Section:
    jxb_id: str
    name: str
    course: Course
    xnm: int
    xqm: str
    teacher: str
    klass: Klass
    slots: list[tuple[int, str, str, str]] = field(default_factory=list)  # day, jcs, zcd, room


class Teaching:
    def __init__(self, college: College):
        self.c = college
        self.courses: dict[str, Course] = {}
        self.plan: dict[str, list[Course]] = {}  # zyh_id -> courses
        self.sections: list[Section] = []
        self.terms = [(college.year - 1, "3"), (college.year - 1, "12"), (college.year, "3")]
        self._courses()
        self._sections()

    def _courses(self) -> None:
        public = []
        for n, (unit, name, term, credits, cat) in enumerate(PUBLIC_COURSES, start=1):
            course = Course(f"{unit}{n:05d}", name, credits, credits * 16, "01", cat, unit, term)
            public.append(course)
            self.courses[course.kch] = course
        for major in self.c.majors:
            own = []
            for n, template in enumerate(MAJOR_TEMPLATES[major.family]):
                nature = "02" if n < 6 else ("03" if n < 12 else "04")
                cat = "C" if ("实训" in template or "项目" in template) else "B"
                credits = [2, 3, 3, 4][(n + major.seq) % 4]
                course = Course(
                    f"{major.zydm}{n + 1:02d}",
                    template.format(s=major.subject),
                    credits,
                    credits * 16,
                    nature,
                    cat,
                    major.jgdm,
                    n // 3 + 1,
                )
                own.append(course)
            for n, name in enumerate(("岗位实习", "毕业设计")):
                own.append(
                    Course(f"{major.zydm}{90 + n}", name, 12 - 6 * n, 0, "05", "C", major.jgdm, 6)
                )
            for course in own:
                self.courses[course.kch] = course
            self.plan[major.zyh_id] = public + own

    def _sections(self) -> None:
        rng = stream(self.c.seed, "sections")
        counter: dict[tuple[str, int, str], int] = {}
        for klass in self.c.classes:
            for xnm, xqm in self.terms:
                term = self.c.cohort_term(klass.cohort, xnm, xqm)
                if not 1 <= term <= 6:
                    continue
                courses = [co for co in self.plan[klass.major.zyh_id] if co.term == term]
                for course in courses:
                    n = counter[(course.kch, xnm, xqm)] = counter.get((course.kch, xnm, xqm), 0) + 1
                    digest = hashlib.blake2b(
                        f"{self.c.seed}|{klass.bh_id}|{course.kch}|{xnm}|{xqm}".encode(),
                        digest_size=16,
                    )
                    teachers = self.c.teachers(course.unit)
                    self.sections.append(
                        Section(
                            digest.hexdigest().upper(),
                            f"({xnm}-{xnm + 1}-{1 if xqm == '3' else 2})-{course.kch}-{n:02d}",
                            course,
                            xnm,
                            xqm,
                            rng.choice(teachers).pid,
                            klass,
                        )
                    )
        self._timetable()

    def _timetable(self) -> None:
        xnm, xqm = self.terms[-1]
        by_class: dict[str, list[Section]] = {}
        for section in self.sections:
            if (section.xnm, section.xqm) == (xnm, xqm) and section.course.hours:
                by_class.setdefault(section.klass.bh_id, []).append(section)
        for bh_id, sections in by_class.items():
            rng = stream(self.c.seed, "timetable", bh_id)
            grid = [(day, p) for day in range(1, 6) for p in PERIODS]
            rng.shuffle(grid)
            room = f"{rng.choice(BUILDINGS)}{rng.randint(1, 5)}{rng.randint(1, 20):02d}"
            for section in sections:
                for _ in range(2 if section.course.credits >= 3 else 1):
                    if not grid:
                        break
                    day, period = grid.pop()
                    weeks = (
                        "1-16周" if section.course.credits > 1 else rng.choice(["1-8周", "9-16周"])
                    )
                    section.slots.append((day, period, weeks, room))

    def current(self) -> list[Section]:
        xnm, xqm = self.terms[-1]
        return [s for s in self.sections if (s.xnm, s.xqm) == (xnm, xqm)]

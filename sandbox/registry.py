"""The 14 subsystems, in generation order (later ones may read facts from earlier ones)."""

from __future__ import annotations

from .domains.academic import Academic
from .domains.admissions import Admissions
from .domains.assets import Assets
from .domains.campus_card import CampusCard
from .domains.dingtalk import DingTalk
from .domains.employment import Employment
from .domains.finance import Finance
from .domains.oa import OA
from .domains.online_teaching import OnlineTeaching
from .domains.people import StudentDevelopment, TeacherDevelopment
from .domains.quality import Decision, MajorDevelopment
from .domains.research import Research

NAMES = {
    "academic": "教务管理系统",
    "research": "科研管理系统",
    "assets": "资产管理系统",
    "finance": "财务管理系统",
    "oa": "OA办公系统",
    "dingtalk": "钉钉",
    "admissions": "招生管理系统",
    "employment": "就业管理系统",
    "campus_card": "校园一卡通",
    "major_development": "专业建设与发展中心平台",
    "online_teaching": "网络教学平台",
    "teacher_development": "教师发展中心",
    "student_development": "学生发展中心",
    "decision": "校情分析与智能决策平台",
}
DOMAINS = [
    Academic,
    Research,
    Assets,
    Finance,
    OA,
    DingTalk,
    Admissions,
    Employment,
    CampusCard,
    MajorDevelopment,
    OnlineTeaching,
    TeacherDevelopment,
    StudentDevelopment,
    Decision,
]

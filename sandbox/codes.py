"""National code sets and the college's own code tables."""

from __future__ import annotations

import random

from include.rules import codes as code_sets
from include.rules import gb11643

# National code sets (GB/T 2261.1 性别, GB 3304 民族, GB/T 4762 政治面貌): the platform's seeds.
SEX = code_sets.code_set("gb_t_2261_1_sex")
NATION = code_sets.code_set("gb_3304_ethnicity")
POLITICAL = code_sets.code_set("gb_t_4762_political_status")
# Hunan's mix: Tujia, Miao, Dong and Yao are the large minorities.
NATION_WEIGHTS = [("01", 88.0), ("15", 4.0), ("06", 3.5), ("12", 1.5), ("13", 1.0), ("14", 0.4)]
NATION_WEIGHTS += [("03", 0.4), ("08", 0.4), ("05", 0.2), ("02", 0.2), ("04", 0.1)]
NATION_WEIGHTS += [(c, 0.02) for c in NATION if c not in {w[0] for w in NATION_WEIGHTS}]

# GB 11643-1999 check digit: the platform's one definition of the rule
id_check = gb11643.check_char


def id_number(area: str, birth_ymd: str, seq: int, male: bool) -> str:
    """身份证号: area + birth + 3-digit sequence whose last digit is odd for men."""
    seq3 = seq % 500 * 2 + (1 if male else 0)
    body = f"{area}{birth_ymd}{seq3:03d}"
    return body + id_check(body)


def id_valid(value: str) -> bool:
    return len(value) == 18 and value[:17].isdigit() and id_check(value[:17]) == value[17]


def wrong_check(value: str) -> str:
    """The same number with a check character that does not match."""
    right = id_check(value[:17])
    return value[:17] + ("0" if right != "0" else "1")


# GB/T 2260 行政区划: Hunan districts (most students) and a few elsewhere.
AREAS_HUNAN = {
    "430102": "长沙市芙蓉区",
    "430103": "长沙市天心区",
    "430104": "长沙市岳麓区",
    "430105": "长沙市开福区",
    "430111": "长沙市雨花区",
    "430112": "长沙市望城区",
    "430121": "长沙县",
    "430181": "浏阳市",
    "430182": "宁乡市",
    "430202": "株洲市荷塘区",
    "430211": "株洲市天元区",
    "430281": "醴陵市",
    "430302": "湘潭市雨湖区",
    "430381": "湘乡市",
    "430405": "衡阳市珠晖区",
    "430482": "常宁市",
    "430502": "邵阳市双清区",
    "430581": "武冈市",
    "430602": "岳阳市岳阳楼区",
    "430681": "汨罗市",
    "430702": "常德市武陵区",
    "430802": "张家界市永定区",
    "430902": "益阳市资阳区",
    "430981": "沅江市",
    "431002": "郴州市北湖区",
    "431081": "资兴市",
    "431102": "永州市零陵区",
    "431202": "怀化市鹤城区",
    "431302": "娄底市娄星区",
    "431381": "冷水江市",
    "433101": "吉首市",
}
AREAS_OTHER = {
    "360102": "南昌市东湖区",
    "420102": "武汉市江岸区",
    "440103": "广州市荔湾区",
    "450102": "南宁市兴宁区",
    "520102": "贵阳市南明区",
    "500101": "重庆市万州区",
    "510104": "成都市锦江区",
    "410102": "郑州市中原区",
    "340104": "合肥市蜀山区",
    "350102": "福州市鼓楼区",
    "370102": "济南市历下区",
    "530102": "昆明市五华区",
    "610102": "西安市新城区",
    "140105": "太原市小店区",
}
PROVINCES = {
    "430000": "湖南省",
    "360000": "江西省",
    "420000": "湖北省",
    "440000": "广东省",
    "450000": "广西壮族自治区",
    "520000": "贵州省",
    "500000": "重庆市",
    "510000": "四川省",
    "410000": "河南省",
    "340000": "安徽省",
    "350000": "福建省",
    "370000": "山东省",
    "530000": "云南省",
    "610000": "陕西省",
    "140000": "山西省",
}


def pick_area(rng: random.Random, hunan_share: float = 0.86) -> str:
    pool = AREAS_HUNAN if rng.random() < hunan_share else AREAS_OTHER
    return rng.choice(sorted(pool))


# The college's organisation units; the 3-digit code is BMDM/jgdm everywhere.
UNITS = [
    ("101", "视觉传达设计学院", "视传学院", "教学院系"),
    ("102", "环境艺术设计学院", "环艺学院", "教学院系"),
    ("103", "工艺美术学院", "工美学院", "教学院系"),
    ("104", "服装与时尚学院", "服装学院", "教学院系"),
    ("105", "数字媒体学院", "数媒学院", "教学院系"),
    ("106", "信息工程学院", "信息学院", "教学院系"),
    ("107", "商学院", "商学院", "教学院系"),
    ("108", "设计创新学院", "设创学院", "教学院系"),
    ("111", "公共课教学部", "公共课部", "教学部门"),
    ("112", "思政课教学部", "思政部", "教学部门"),
    ("113", "创新创业教育学院", "创新创业学院", "教学部门"),
    ("201", "党政办公室", "党政办", "职能部门"),
    ("202", "组织人事处", "组织人事处", "职能部门"),
    ("203", "教务处", "教务处", "职能部门"),
    ("204", "科研处", "科研处", "职能部门"),
    ("205", "校企合作处", "校企合作处", "职能部门"),
    ("206", "学生工作部（处）", "学工部", "职能部门"),
    ("207", "招生就业指导处", "招就处", "职能部门"),
    ("208", "财务处", "财务处", "职能部门"),
    ("209", "后勤处", "后勤处", "职能部门"),
    ("210", "质量管理办公室", "质管办", "职能部门"),
    ("211", "信息中心", "信息中心", "职能部门"),
    ("212", "图书馆", "图书馆", "职能部门"),
]
UNIT_NAME = {u[0]: u[1] for u in UNITS}
SCHOOLS = [u[0] for u in UNITS if u[3] == "教学院系"]
OFFICES = [u[0] for u in UNITS if u[3] != "教学院系"]

# 2021 职业教育专业目录 codes by school: (code, name, subject word for course names, family)
MAJORS = {
    "101": [
        ("550102", "视觉传达设计", "视觉传达", "design"),
        ("550111", "包装艺术设计", "包装", "design"),
        ("550124", "展示艺术设计", "展示", "design"),
        ("550101", "艺术设计", "艺术设计", "design"),
        ("550107", "书画艺术", "书画", "design"),
    ],
    "102": [
        ("550106", "环境艺术设计", "环境艺术", "design"),
        ("550108", "公共艺术设计", "公共艺术", "design"),
        ("550118", "家具艺术设计", "家具", "design"),
        ("550104", "产品艺术设计", "产品", "design"),
    ],
    "103": [
        ("550109", "工艺美术品设计", "工艺美术品", "design"),
        ("550112", "雕刻艺术设计", "雕刻", "design"),
        ("550113", "陶瓷设计与工艺", "陶瓷", "design"),
        ("550116", "刺绣设计与工艺", "刺绣", "design"),
        ("550117", "玉器设计与工艺", "玉器", "design"),
    ],
    "104": [
        ("550105", "服装与服饰设计", "服装", "design"),
        ("550114", "珠宝首饰技术与管理", "珠宝首饰", "design"),
        ("550119", "皮具艺术设计", "皮具", "design"),
        ("550125", "美容美体艺术", "美容美体", "design"),
        ("550126", "人物形象设计", "人物形象", "design"),
    ],
    "105": [
        ("550103", "数字媒体艺术设计", "数字媒体艺术", "design"),
        ("550121", "游戏艺术设计", "游戏美术", "design"),
        ("550122", "动漫设计", "动漫", "design"),
        ("550123", "摄影与摄像艺术", "摄影摄像", "design"),
        ("560201", "广播影视节目制作", "影视节目", "design"),
    ],
    "106": [
        ("510201", "计算机应用技术", "计算机应用", "computing"),
        ("510203", "软件技术", "软件开发", "computing"),
        ("510208", "虚拟现实技术应用", "虚拟现实", "computing"),
        ("510209", "人工智能技术应用", "人工智能", "computing"),
        ("510202", "计算机网络技术", "网络", "computing"),
    ],
    "107": [
        ("530701", "电子商务", "电子商务", "business"),
        ("530702", "跨境电子商务", "跨境电商", "business"),
        ("530802", "市场营销", "市场营销", "business"),
        ("530703", "移动商务", "移动商务", "business"),
        ("530302", "大数据与会计", "会计", "business"),
    ],
    "108": [
        ("550115", "服装陈列与展示设计", "陈列展示", "design"),
        ("550120", "室内艺术设计", "室内设计", "design"),
        ("460105", "工业设计", "工业设计", "design"),
        ("550110", "广告艺术设计", "广告", "design"),
        ("510204", "数字媒体技术", "数字媒体技术", "computing"),
    ],
}


def stale_code(code: str) -> str:
    """The pre-2021 (2015 catalogue) look of a major code: 55xxxx → 65xxxx and so on."""
    prefix = {"55": "65", "51": "61", "53": "63", "56": "66", "46": "56"}.get(code[:2])
    return (prefix or "6" + code[1]) + code[2:]


# 专业群: one per school
CLUSTER_NAMES = {
    "101": "视觉传达设计专业群",
    "102": "环境艺术设计专业群",
    "103": "传统工艺美术专业群",
    "104": "服装与时尚设计专业群",
    "105": "数字媒体艺术专业群",
    "106": "数字技术应用专业群",
    "107": "数字商贸专业群",
    "108": "设计创新专业群",
}

TITLES = [  # (职称, 级别, weight among teachers)
    ("教授", "正高", 4),
    ("副教授", "副高", 22),
    ("高级工艺美术师", "副高", 4),
    ("高级实验师", "副高", 2),
    ("讲师", "中级", 40),
    ("工艺美术师", "中级", 5),
    ("实验师", "中级", 3),
    ("助教", "初级", 15),
    ("无", "无", 5),
]

# Codes that look plausible but are wrong, for the `invalid_code` defect class
INVALID = {"sex": "7", "nation": "99", "political": "14"}

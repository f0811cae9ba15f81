"""Chinese personal names, and the variants real systems end up with."""

from __future__ import annotations

import random

# Common surnames, weighted roughly by frequency in Hunan
SURNAMES = [
    ("刘", 9),
    ("李", 8),
    ("王", 7),
    ("陈", 7),
    ("张", 6),
    ("罗", 5),
    ("彭", 4),
    ("谭", 4),
    ("周", 4),
    ("唐", 4),
    ("邓", 4),
    ("曾", 4),
    ("胡", 4),
    ("黄", 4),
    ("吴", 3),
    ("杨", 3),
    ("肖", 3),
    ("蒋", 3),
    ("龙", 2),
    ("向", 2),
    ("贺", 2),
    ("易", 2),
    ("朱", 2),
    ("谢", 2),
    ("何", 2),
    ("郭", 2),
    ("林", 2),
    ("赵", 2),
    ("孙", 1),
    ("马", 1),
    ("高", 1),
    ("梁", 1),
    ("宋", 1),
    ("许", 1),
    ("邹", 1),
    ("熊", 1),
    ("廖", 1),
    ("袁", 1),
    ("蔡", 1),
    ("田", 1),
    ("石", 1),
    ("姚", 1),
    ("戴", 1),
    ("钟", 1),
    ("汤", 1),
    ("覃", 1),
    ("颜", 1),
    ("雷", 1),
    ("欧阳", 0.6),
    ("司马", 0.05),
    ("上官", 0.05),
]
MALE = list("伟强磊军勇杰涛明超斌鹏辉俊浩宇轩豪博文翔健峰林凯诚睿泽晨阳毅航鑫东亮志")
FEMALE = list("芳娜敏静丽艳婷雪琳颖欣怡佳梦瑶璐倩琪萱妍蕾月晴薇雯悦诗涵思雨婧露洁")
NEUTRAL = list("子一心嘉清可安若春秋晓小家天思欣雅新宏华")
UYGHUR_GIVEN = ["阿依古丽", "古丽娜尔", "迪丽努尔", "买买提", "艾尔肯", "阿卜杜拉"]
UYGHUR_FATHER = ["买买提", "艾力", "吐尔逊", "阿不都", "依明"]

# Homophone or near-form substitutions that clerks make
HOMOPHONES = {
    "晓": "小",
    "小": "晓",
    "明": "铭",
    "丽": "莉",
    "静": "靖",
    "婷": "亭",
    "杰": "傑",
    "琳": "林",
    "欣": "馨",
    "雯": "文",
    "涛": "滔",
    "峰": "锋",
    "佳": "家",
    "诗": "思",
}


def person_name(rng: random.Random, male: bool, nation: str) -> str:
    if nation == "05":  # Uyghur names carry a middle dot
        return f"{rng.choice(UYGHUR_GIVEN)}·{rng.choice(UYGHUR_FATHER)}"
    surname = rng.choices([s for s, _ in SURNAMES], [w for _, w in SURNAMES])[0]
    pool = MALE if male else FEMALE
    if rng.random() < 0.25:
        given = rng.choice(pool)
    else:
        given = rng.choice(NEUTRAL + pool) + rng.choice(pool)
    return surname + given


def variant(rng: random.Random, name: str) -> str:
    """A name as another system might hold it."""
    if "·" in name:
        return name.replace("·", "") if rng.random() < 0.7 else name.replace("·", ".")
    swappable = [i for i, ch in enumerate(name) if ch in HOMOPHONES and i > 0]
    roll = rng.random()
    if swappable and roll < 0.5:
        i = rng.choice(swappable)
        return name[:i] + HOMOPHONES[name[i]] + name[i + 1 :]
    if roll < 0.75 and len(name) == 2:
        return f"{name[0]} {name[1]}"  # a space typed to align two-character names
    return name + " "

"""Table 1 as data: the registry loads the college's 14 subsystems and refuses bad files."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from include import settings
from include.registry import RegistryError, load_registry

TABLE_1 = {
    "academic": ("教务管理系统", ["教务处"]),
    "research": ("科研管理系统", ["科研处", "校企合作处"]),
    "assets": ("资产管理系统", ["后勤处"]),
    "finance": ("财务管理系统", ["财务处"]),
    "oa": ("OA办公系统", ["党政办"]),
    "dingtalk": ("钉钉", ["信息中心"]),
    "admissions": ("招生管理系统", ["招生就业指导处"]),
    "employment": ("就业管理系统", ["创新创业教育学院"]),
    "campus_card": ("校园一卡通", ["信息中心"]),
    "major_development": ("专业建设与发展中心平台", ["教务处"]),
    "online_teaching": ("网络教学平台", ["教务处"]),
    "teacher_development": ("教师发展中心", ["组织人事处"]),
    "student_development": ("学生发展中心", ["学生工作部（处）"]),
    "decision": ("校情分析与智能决策平台", ["质管办"]),
}


def test_the_fourteen_rows_of_table_1():
    reg = load_registry()
    assert {sid: (s.name_zh, list(s.managing_departments)) for sid, s in reg.subsystems.items()} \
        == TABLE_1  # fmt: skip
    for s in reg.subsystems.values():
        assert s.collectors and s.organising_departments and s.plan.deadline_hours > 0


def test_each_school_has_party_and_admin_line_quality_administrators():
    reg = load_registry()
    schools = [d for d in reg.departments.values() if d.kind == "school"]
    assert len(schools) == 8
    for d in schools:
        assert sorted(q.line for q in d.quality_administrators) == ["党", "政"]
    for d in reg.departments.values():
        if d.kind != "school":
            assert len(d.quality_administrators) == 1, d.name


def test_group_names_expand_to_departments():
    reg = load_registry()
    assert len(reg.subsystems["assets"].organising_departments) == len(reg.departments)
    assert set(reg.subsystems["major_development"].organising_departments) == {
        d.name for d in reg.departments.values() if d.kind == "school"
    }


@pytest.fixture
def registry_copy(tmp_path: Path) -> Path:
    shutil.copytree(settings.SUBSYSTEMS_DIR, tmp_path / "subsystems")
    shutil.copy(settings.DEPARTMENTS_FILE, tmp_path / "departments.yml")
    return tmp_path


def _edit(path: Path, change) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def _load(root: Path):
    return load_registry(root / "subsystems", root / "departments.yml")


def _dept(name):
    return lambda d: next(x for x in d["departments"] if x["name"] == name)


@pytest.mark.parametrize(
    ("file", "change", "expected"),
    [
        ("subsystems/finance.yml", lambda d: d["schedule"].update(cron="61 2 * * *"),
         ("finance.yml: schedule.cron: '61 2 * * *'", "is not a valid 5-field cron")),
        ("subsystems/finance.yml", lambda d: d["schedule"].update(cron="0 2 * *"),
         "finance.yml: schedule.cron"),
        ("subsystems/oa.yml", lambda d: d.update(managing_departments=["党办"]),
         ("oa.yml: managing_departments: 未知部门 (unknown department '党办') — ",
          "did you mean '党政办'?")),
        ("subsystems/oa.yml", lambda d: d.pop("managing_departments"),
         ("oa.yml: managing_departments: ", "missing")),
        ("subsystems/research.yml", lambda d: d.update(id="finance"),
         ("research.yml: id: ", "'finance' differs from the file name")),
        ("subsystems/research.yml", lambda d: d.update(shedule={}),
         ("research.yml: shedule: 未知字段 (unknown field) — ", "did you mean 'schedule'?")),
        ("subsystems/academic.yml", lambda d: d["plan"].update(deadline_hours=0),
         "academic.yml: plan.deadline_hours"),
        ("departments.yml", lambda d: _dept("商学院")(d)["quality_administrators"].pop(),
         ("departments.yml: departments[商学院].quality_administrators: ",
          "a school (院系) needs two")),
        ("departments.yml",
         lambda d: _dept("商学院")(d)["quality_administrators"][1].update(line="党"),
         "departments.yml: departments[商学院].quality_administrators"),
        ("departments.yml", lambda d: _dept("财务处")(d)["head"].update(email="hu"),
         "departments.yml: departments[财务处].head.email"),
        ("subsystems/dingtalk.yml",
         lambda d: d["api"]["resources"]["users"]["fields"]["hired_date"].pop("format"),
         ("dingtalk.yml: api.resources.users.fields.hired_date: ",
          "a date field without a date format")),
        ("subsystems/dingtalk.yml",
         lambda d: d["api"]["resources"]["users"]["fields"]["hired_date"].update(
             type="date(epoch_ms_local)"),
         ("dingtalk.yml: api.resources.users.fields.hired_date.type: ",
          "unknown field type 'date(epoch_ms_local)'")),
        ("subsystems/research.yml",
         lambda d: d["api"]["resources"].update(submission=d["api"]["resources"]["projects"]),
         ("research.yml: api.resources.submission: ", "rename the resource")),
    ],
)  # fmt: skip
def test_a_bad_registry_is_refused_with_file_and_field(registry_copy, file, change, expected):
    _edit(registry_copy / file, change)
    with pytest.raises(RegistryError) as err:
        _load(registry_copy)
    message = str(err.value)
    for part in [expected] if isinstance(expected, str) else expected:
        assert part in message
    assert "\n" not in message and " — " in message  # one line, with the fix


def test_a_copied_file_with_a_duplicate_id_is_refused(registry_copy):
    # The id must equal the file name, which is what makes duplicate ids impossible.
    (registry_copy / "subsystems" / "academic2.yml").write_text(
        (registry_copy / "subsystems" / "academic.yml").read_text(encoding="utf-8"),
        encoding="utf-8",
    )
    with pytest.raises(RegistryError, match=r"academic2.yml: id: .*'academic' differs"):
        _load(registry_copy)


def test_a_fifteenth_subsystem_is_one_new_file(registry_copy):
    text = (registry_copy / "subsystems" / "oa.yml").read_text(encoding="utf-8")
    new = text.replace("id: oa", "id: library").replace("OA办公系统", "图书管理系统")
    (registry_copy / "subsystems" / "library.yml").write_text(new, encoding="utf-8")
    reg = _load(registry_copy)
    assert len(reg.subsystems) == 15 and reg.subsystems["library"].name_zh == "图书管理系统"


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "include.cli", *args], capture_output=True, text=True,
        cwd=settings.ROOT,
    )  # fmt: skip


def test_registry_check_lists_every_subsystem_with_departments_and_schedule():
    out = _cli("registry", "check")
    assert out.returncode == 0, out.stderr
    assert "14 个子系统" in out.stdout
    for sid, (name, managing) in TABLE_1.items():
        assert sid in out.stdout and name in out.stdout and managing[0] in out.stdout
    assert "30 1 * * * (Asia/Shanghai)" in out.stdout


def test_a_yaml_extension_is_not_silently_ignored(registry_copy):
    (registry_copy / "subsystems" / "oa.yml").rename(registry_copy / "subsystems" / "oa.yaml")
    with pytest.raises(RegistryError, match=r"oa.yaml: \(file\): .* — .*rename it to.* oa.yml"):
        _load(registry_copy)


def test_keys_for_two_api_generations_and_fixed_for_each_values_validate(registry_copy):
    # DingTalk: approval process codes are configured, not listed (for_each.values), and a
    # resource of the v1.0 generation carries its own auth and responses.
    def change(d):
        res = d["api"]["resources"]
        res["approvals"]["for_each"] = {"values": ["PROC-A", "PROC-B"], "param": "process_code"}
        res["approvals"]["auth"] = {
            "type": "token",
            "login": {"method": "POST", "path": "/v1.0/oauth2/accessToken",
                      "json": {"appKey": "{key}", "appSecret": "{secret}"}},
            "token_path": "accessToken",
            "send": {"header": "x-acs-dingtalk-access-token"},
        }  # fmt: skip
        res["approvals"]["responses"] = {"message_path": "message"}

    _edit(registry_copy / "subsystems/dingtalk.yml", change)
    res = _load(registry_copy).subsystems["dingtalk"].api.resources["approvals"]
    assert res.for_each.values == ("PROC-A", "PROC-B") and res.for_each.resource is None
    assert res.auth.send_header == "x-acs-dingtalk-access-token"
    assert res.responses.message_path == "message"

    _edit(registry_copy / "subsystems/dingtalk.yml",
          lambda d: d["api"]["resources"]["approvals"].update(for_each={"param": "x"}))  # fmt: skip
    with pytest.raises(RegistryError, match=r"dingtalk.yml: api.resources.approvals.for_each: "):
        _load(registry_copy)


def test_every_department_and_subsystem_error_is_one_bilingual_line(registry_copy):
    _edit(registry_copy / "subsystems/oa.yml", lambda d: d["schedule"].update(cron="61 2 * * *"))
    with pytest.raises(RegistryError) as err:
        _load(registry_copy)
    message = str(err.value)
    assert "不是合法的 5 段 cron" in message and "is not a valid 5-field cron" in message


def test_a_key_given_twice_is_refused_with_file_line_and_key(registry_copy):
    """PyYAML keeps the last of two equal keys without a word; the registry refuses them."""
    path = registry_copy / "subsystems" / "academic.yml"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    cron = lines.index('  cron: "30 1 * * *"\n')
    lines.insert(cron + 2, '  cron: "0 2 * * *"\n')  # after timezone: a second schedule.cron
    path.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(RegistryError) as err:
        _load(registry_copy)
    message = str(err.value)
    assert f"academic.yml: line {cron + 3}: 键 `cron` 重复，第 {cron + 1} 行已有" in message
    assert "\n" not in message and " — " in message

"""dbt for the warehouse: its environment, its runs, and the responsibility files it reads.

Three jobs, all small:

- **Environment.** `dbt_env()` turns the platform's warehouse URL (`connection.warehouse_url()`:
  XIAOBEN_DATABASE_URL, the Airflow connection `xiaoben_warehouse`, or the embedded server)
  into the XIAOBEN_DBT_* variables `dbt_project/profiles.yml` reads, so no credential is ever
  written to a file. dbt logs in as xiaoben_transformer (`connection.url_for("build")`, roles.py)
  whatever user the URL names: that server and database, the transformer's login. `run()` calls
  the dbt executable of this virtualenv with it.
- **Registry → dbt.** Table 1 (`connectors/`) is the only place responsibility is written.
  `sync()` derives from it the dbt groups (`models/_groups.yml`, one per managing department,
  owned by its head), the registry seeds the `data_responsibility` mart is built from
  (`seeds/governance/*.csv`), and the responsibility `meta` and `group` of every mart from the
  mart's own `meta.subsystems`. `check()` reports every file that disagrees with the registry,
  naming it, so re-assigning a department in the YAML makes the tests say which dbt file to
  update (`./run sync` rewrites them, with the rest of the generated files).
- **Rule for a mart's group.** A mart whose subsystems share one managing department belongs
  to that department's group; a mart that integrates data managed by several departments
  belongs to the quality office (质管办, `roles:` in departments.yml), which integrates the
  whole school's data (Article 11).

    python -m include.warehouse.dbt sync | check | env | run ARGS...
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from include import settings
from include.registry import Registry, registry

DBT_DIR = settings.DBT_DIR
GROUPS_FILE = DBT_DIR / "models" / "_groups.yml"
GOVERNANCE_SEEDS = DBT_DIR / "seeds" / "governance"
MARTS_DIR = DBT_DIR / "models" / "marts"
GENERATED_META = (
    "subsystem_names",
    "collectors",
    "organising_departments",
    "managing_departments",
    "quality_administrators",
)


# -- environment --------------------------------------------------------------------------------


def dbt_executable() -> Path:
    return Path(sys.executable).with_name("dbt")


def dbt_env(url: str | None = None, base: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for a dbt process: `base` (default os.environ) plus the profile variables."""
    from include.warehouse import connection

    parts = urlsplit(connection.url_for("build", url))
    query = parse_qs(parts.query)
    host = parts.hostname or (query.get("host") or ["127.0.0.1"])[0]
    env = dict(os.environ if base is None else base)
    env.update({
        "XIAOBEN_DBT_HOST": host,
        "XIAOBEN_DBT_PORT": str(parts.port or (query.get("port") or ["5432"])[0]),
        "XIAOBEN_DBT_USER": unquote(parts.username or "postgres"),
        "XIAOBEN_DBT_PASSWORD": unquote(parts.password or ""),
        "XIAOBEN_DBT_DBNAME": parts.path.lstrip("/") or settings.warehouse_db(),
        "XIAOBEN_DBT_SSLMODE": (query.get("sslmode") or ["prefer"])[0],
        "DBT_PROFILES_DIR": str(DBT_DIR),
        "DBT_PROJECT_DIR": str(DBT_DIR),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_USE_COLORS": "false",
    })  # fmt: skip
    return env


def run(args: list[str], url: str | None = None, check: bool = True, **kwargs):
    """Run `dbt ARGS` in dbt_project/ against the warehouse; raises with dbt's output on failure."""
    cmd = [str(dbt_executable()), *args]
    res = subprocess.run(
        cmd, cwd=DBT_DIR, env=dbt_env(url), capture_output=True, text=True, **kwargs
    )
    if check and res.returncode != 0:
        tail = "\n".join((res.stdout + res.stderr).splitlines()[-60:])
        raise RuntimeError(f"dbt {' '.join(args)} failed ({res.returncode}):\n{tail}")
    return res


def stream(args: list[str], on_line, url: str | None = None) -> subprocess.CompletedProcess:
    """`dbt ARGS` like run(check=False), each output line handed to `on_line` as dbt prints it:
    a long build shows in the task log, node by node ("12 of 47 OK created …"), while it runs."""
    cmd = [str(dbt_executable()), *args]
    lines: list[str] = []
    with subprocess.Popen(
        cmd, cwd=DBT_DIR, env=dbt_env(url), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, bufsize=1,
    ) as proc:  # fmt: skip
        for line in proc.stdout:
            lines.append(line)
            on_line(line.rstrip("\n"))
    return subprocess.CompletedProcess(cmd, proc.returncode, "".join(lines), "")


# -- the dbt graph ----------------------------------------------------------------------------


def manifest_path(timeout: float = 120) -> Path:
    """dbt_project/target/manifest.json, (re)built by `dbt parse` when missing or stale.

    DAG parsing reads the dbt graph from this file (the warehouse DAG's per-model Assets). A
    fresh clone has none, so the first parse builds it (a few seconds, no database needed);
    afterwards a stat of the project files decides whether it is current. A file lock keeps
    concurrent parsers (scheduler, dag-processor, test workers) from writing it at once.
    """
    import fcntl

    target = DBT_DIR / "target"
    manifest = target / "manifest.json"
    if manifest.exists() and not _project_newer_than(manifest.stat().st_mtime):
        return manifest
    target.mkdir(exist_ok=True)
    with open(target / ".parse.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not manifest.exists() or _project_newer_than(manifest.stat().st_mtime):
            env = dbt_env(base={k: v for k, v in os.environ.items() if not k.startswith("DBT_")})
            res = subprocess.run(
                [str(dbt_executable()), "parse", "--quiet"],
                cwd=DBT_DIR, env=env, capture_output=True, text=True, timeout=timeout,
            )  # fmt: skip
            if res.returncode != 0:
                raise RuntimeError(
                    f"dbt parse failed in {DBT_DIR}: {(res.stdout + res.stderr)[-3000:]}"
                )
            manifest.touch()
    return manifest


def department_scopes(manifest: dict | None = None) -> dict[str, str]:
    """schema.table -> the mart's `department_scope` (config.meta in its yml; roles.py): what
    dbt's on-run-end hands to private.scope_marts(), read from the same manifest."""
    import json

    nodes = (manifest or json.loads(manifest_path().read_text(encoding="utf-8")))["nodes"]
    return {
        f"{n['schema']}.{n['alias']}": n["config"]["meta"]["department_scope"]
        for n in nodes.values()
        if n["resource_type"] == "model" and n["config"].get("meta", {}).get("department_scope")
    }


def _project_newer_than(mtime: float) -> bool:
    for folder in ("models", "seeds", "snapshots", "macros", "tests"):
        for path in (DBT_DIR / folder).rglob("*"):
            if path.is_file() and path.stat().st_mtime > mtime:
                return True
    return any(
        (DBT_DIR / name).stat().st_mtime > mtime for name in ("dbt_project.yml", "profiles.yml")
    )


# -- registry → dbt -----------------------------------------------------------------------------


def _person(name: str | None, email: str | None) -> str:
    return f"{name} <{email}>" if email else (name or "")


def _collector(c) -> str:
    who = "，".join(x for x in (c.department, c.name) if x)
    return f"{c.role}（{who}）" if who else c.role


def responsibility(subsystems: list[str], reg: Registry | None = None) -> dict:
    """The generated meta of a mart that reads these subsystems, and its group."""
    reg = reg or registry()
    subs = [reg.subsystems[s] for s in subsystems]
    managing = list(dict.fromkeys(d for s in subs for d in s.managing_departments))
    organising = list(dict.fromkeys(d for s in subs for d in s.organising_departments))
    qas = []
    for dept in dict.fromkeys(managing + organising):
        qas += [f"{dept} {q.name}" for q in reg.departments[dept].quality_administrators]
    meta = {
        "subsystem_names": [s.name_zh for s in subs],
        "collectors": list(dict.fromkeys(_collector(c) for s in subs for c in s.collectors)),
        "organising_departments": organising,
        "managing_departments": managing,
        "quality_administrators": list(dict.fromkeys(qas)),
    }
    group = managing[0] if len(managing) == 1 else reg.quality_office
    return {"group": group, "meta": meta}


def group_departments(reg: Registry | None = None) -> list[str]:
    reg = reg or registry()
    names = [d for s in reg.subsystems.values() for d in s.managing_departments]
    names.append(reg.quality_office)
    return [d for d in reg.departments if d in set(names)]


def groups_yaml(reg: Registry | None = None) -> str:
    reg = reg or registry()
    lines = [
        "# Generated from connectors/ by `python -m include.warehouse.dbt sync`; do not edit.",
        "# One dbt group per managing department (归口管理部门), owned by its head (第一责任人).",
        "version: 2",
        "",
        "groups:",
    ]
    for name in group_departments(reg):
        d = reg.departments[name]
        manages = [s.id for s in reg.subsystems.values() if name in s.managing_departments]
        qas = ", ".join(_q(_person(q.name, q.email)) for q in d.quality_administrators)
        lines += [
            f"  - name: {name}",
            f"    description: {_q(f'{d.full_name}（归口管理部门）负责的数据集市')}",
            f"    owner: {{name: {d.head.name}, email: {d.head.email}}}",
            "    config:",
            "      meta:",
            f"        department_full_name: {_q(d.full_name)}",
            f"        vice_president: {_q(f'{d.vice_president.title} {d.vice_president.name}')}",
            f"        quality_administrators: [{qas}]",
            f"        manages_subsystems: [{', '.join(manages)}]",
        ]
    return "\n".join(lines) + "\n"


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _csv(header: list[str], rows: list[list]) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return out.getvalue()


def registry_seeds(reg: Registry | None = None) -> dict[str, str]:
    """seeds/governance/<name>.csv contents: Table 1 and the department roster as tables."""
    reg = reg or registry()
    subsystems = [
        [
            s.id,
            s.name_zh,
            s.name_en,
            s.content,
            "、".join(_collector(c) for c in s.collectors),
            "、".join(s.organising_departments),
            "、".join(s.managing_departments),
            s.cron,
            s.plan.frequency,
            s.plan.deadline_hours,
            f"connectors/subsystems/{s.source_file.name}",
        ]
        for s in reg.subsystems.values()
    ]
    departments = [
        [
            d.name,
            getattr(d, "code", None) or "",
            d.full_name,
            d.kind,
            d.head.name,
            d.head.email,
            d.vice_president.name,
            d.vice_president.title,
            d.vice_president.email,
            "、".join(q.name for q in d.quality_administrators),
            ";".join(q.email for q in d.quality_administrators),
        ]
        for d in reg.departments.values()
    ]
    people = []
    for s in reg.subsystems.values():
        for c in s.collectors:
            people.append(
                [s.id, "collector", "数据采集员", c.department or "", c.role, c.name, c.email]
            )
        for role, label, depts in (
            ("managing_department", "归口管理部门", s.managing_departments),
            ("organising_department", "组织部门", s.organising_departments),
        ):
            for name in depts:
                d = reg.departments[name]
                people.append([s.id, role, label, name, "部门负责人", d.head.name, d.head.email])
                for q in d.quality_administrators:
                    qa_role = f"质量管理员（{q.line}）" if q.line else "质量管理员"
                    people.append([s.id, role, label, name, qa_role, q.name, q.email])
                vp = d.vice_president
                people.append([s.id, role, label, name, vp.title, vp.name, vp.email])
    return {
        "registry_subsystems": _csv(
            [
                "subsystem_id",
                "name_zh",
                "name_en",
                "content",
                "collectors",
                "organising_departments",
                "managing_departments",
                "schedule_cron",
                "frequency",
                "deadline_hours",
                "source_file",
            ],
            subsystems,
        ),
        "registry_departments": _csv(
            [
                "department",
                "code",
                "full_name",
                "kind",
                "head_name",
                "head_email",
                "vice_president_name",
                "vice_president_title",
                "vice_president_email",
                "quality_administrators",
                "quality_administrator_emails",
            ],
            departments,
        ),
        "registry_people": _csv(
            ["subsystem_id", "role", "role_zh", "department", "duty", "name", "email"],
            [[("" if v is None else v) for v in row] for row in people],
        ),
    }


def _yaml():
    from ruamel.yaml import YAML

    y = YAML()
    y.preserve_quotes = True
    y.width = 4096
    y.indent(mapping=2, sequence=4, offset=2)
    return y


def mart_files() -> list[Path]:
    return sorted(MARTS_DIR.rglob("*.yml"))


def _mart_models(doc) -> list:
    return [m for m in (doc or {}).get("models") or [] if isinstance(m, dict)]


def _expected_config(model, reg: Registry) -> tuple[dict | None, str | None]:
    meta = (model.get("config") or {}).get("meta") or {}
    subs = meta.get("subsystems")
    if not subs:
        return None, "config.meta.subsystems is missing: list the subsystem ids this mart reads"
    unknown = [s for s in subs if s not in reg.subsystems]
    if unknown:
        return None, f"config.meta.subsystems names unknown subsystem(s) {unknown}"
    if not meta.get("department_scope"):
        return None, (
            "config.meta.department_scope is missing: the rows a department role may read (a SQL"
            " condition over the mart's columns, e.g. org_unit_code = private.my_department()),"
            " or whole_school (include/warehouse/roles.py)"
        )
    return responsibility(list(subs), reg), None


def check(reg: Registry | None = None) -> list[str]:
    """Every dbt file that disagrees with the registry, one line each; [] when in sync."""
    reg = reg or registry()
    problems = []
    hint = "run `./run sync`"
    rel = lambda p: p.relative_to(settings.ROOT)  # noqa: E731
    if not GROUPS_FILE.exists() or GROUPS_FILE.read_text(encoding="utf-8") != groups_yaml(reg):
        problems.append(f"{rel(GROUPS_FILE)}: groups differ from connectors/ — {hint}")
    for name, text in registry_seeds(reg).items():
        path = GOVERNANCE_SEEDS / f"{name}.csv"
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            problems.append(f"{rel(path)}: differs from connectors/ — {hint}")
    y = _yaml()
    for path in mart_files():
        for model in _mart_models(y.load(path.read_text(encoding="utf-8"))):
            expected, error = _expected_config(model, reg)
            where = f"{rel(path)}: model {model.get('name')}"
            if error:
                problems.append(f"{where}: {error}")
                continue
            config = model.get("config") or {}
            if config.get("group") != expected["group"]:
                problems.append(
                    f"{where}: config.group is {config.get('group')!r}, registry says "
                    f"{expected['group']!r} — {hint}"
                )
            meta = config.get("meta") or {}
            for key, value in expected["meta"].items():
                if list(meta.get(key) or []) != value:
                    problems.append(
                        f"{where}: config.meta.{key} is {list(meta.get(key) or [])}, registry "
                        f"says {value} — {hint}"
                    )
    return problems


def sync(reg: Registry | None = None) -> list[Path]:
    """Rewrite every generated file that differs from the registry; returns the files written."""
    reg = reg or registry()
    written = []

    def write(path: Path, text: str) -> None:
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            written.append(path)

    write(GROUPS_FILE, groups_yaml(reg))
    for name, text in registry_seeds(reg).items():
        write(GOVERNANCE_SEEDS / f"{name}.csv", text)
    y = _yaml()
    for path in mart_files():
        doc = y.load(path.read_text(encoding="utf-8"))
        for model in _mart_models(doc):
            expected, error = _expected_config(model, reg)
            if error:
                raise SystemExit(f"{path.relative_to(settings.ROOT)}: {model.get('name')}: {error}")
            config = model.setdefault("config", {})
            config["group"] = expected["group"]
            meta = config.setdefault("meta", {})
            for key, value in expected["meta"].items():
                meta[key] = value
        out = io.StringIO()
        y.dump(doc, out)
        write(path, out.getvalue())
    return written


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv[0] if argv else "check"
    if command == "sync":
        for path in sync():
            print(f"updated {path.relative_to(settings.ROOT)}")
        return 0
    if command == "check":
        problems = check()
        print("\n".join(problems) or "dbt responsibility files agree with connectors/")
        return 1 if problems else 0
    if command == "env":
        for key, value in sorted(dbt_env(base={}).items()):
            print(f"{key}={'***' if 'PASSWORD' in key and value else value}")
        return 0
    if command == "run":
        res = run(argv[1:], check=False)
        print(res.stdout + res.stderr)
        return res.returncode
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())

"""The environment every Airflow process of the platform runs with.

The same variables serve the service (`./run up`, `./run demo`), the tests and a developer's
`./run airflow …`, so all of them see the same DAGs, metadata database and secrets.

- The api-server listens on 127.0.0.1 unless XIAOBEN_AIRFLOW_HOST says otherwise (a campus
  server opens it on purpose, behind its own proxy); XIAOBEN_AIRFLOW_PORT picks the port.
- Secrets are generated once into files readable by their owner only (mode 0600) under
  AIRFLOW_HOME: the UI admin's password (the simple auth manager's passwords file) and the
  keys every component must share (JWT secret, Fernet key that encrypts connection passwords
  in the metadata database). Nothing secret is written to the repository.
- LocalExecutor parallelism is sized to the machine (2 × CPU cores), not Airflow's 32.
- Subsystem connections live in Airflow's metadata database (`include/service.py` writes
  them); only the warehouse connection is given here, derived from the database settings.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from include import settings
from include.warehouse import connection

ADMIN_USER = "admin"


def airflow_home() -> Path:
    return settings.state_dir() / "airflow"


def api_host() -> str:
    return os.environ.get("XIAOBEN_AIRFLOW_HOST", "127.0.0.1")


def api_port() -> int:
    return int(os.environ.get("XIAOBEN_AIRFLOW_PORT", "8080"))


def api_url() -> str:
    """Where local processes reach the api-server (loopback even when it listens wider)."""
    host = api_host()
    host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    return f"http://{host}:{api_port()}"


def parallelism() -> int:
    return int(os.environ.get("XIAOBEN_AIRFLOW_PARALLELISM", 2 * (os.cpu_count() or 1)))


def passwords_file() -> Path:
    return airflow_home() / "simple_auth_manager_passwords.json"


def _private_json(path: Path, make: dict) -> dict:
    """Read a JSON file of secrets, creating it (mode 0600) with `make` the first time."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(make, f)
    os.chmod(path, 0o600)  # also tightens a file an older version left readable
    return json.loads(path.read_text() or "{}")


def admin_password() -> str:
    """The UI admin's password (generated once; `./run status` and the README point here)."""
    users = _private_json(passwords_file(), {ADMIN_USER: secrets.token_urlsafe(12)})
    return users[ADMIN_USER]


def people_passwords() -> dict[str, str]:
    """Every Airflow user and password: the admin, and each person who signs or reviews
    corrections (department heads, vice-presidents, quality administrators; role `user`, so
    they answer only the human-in-the-loop steps assigned to them). Generated once per person
    into the same owner-only passwords file; a person added to departments.yml later gets one."""
    from include.corrections.chain import airflow_users

    path = passwords_file()
    admin_password()
    users = json.loads(path.read_text() or "{}")
    missing = [u for u in airflow_users() if u not in users]
    if missing:
        users.update({u: secrets.token_urlsafe(12) for u in missing})
        fd = os.open(path.with_suffix(".tmp"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(users, f)
        os.replace(path.with_suffix(".tmp"), path)
    return users


def _keys() -> dict:
    from cryptography.fernet import Fernet

    return _private_json(
        airflow_home() / "keys.json",
        {"jwt_secret": secrets.token_urlsafe(32), "fernet_key": Fernet.generate_key().decode()},
    )


def environ(extra: dict[str, str] | None = None) -> dict[str, str]:
    """os.environ plus the platform's Airflow settings (explicit settings in os.environ win)."""
    warehouse = connection.warehouse_url()
    people = people_passwords()  # the passwords file exists, owner-only, before any server reads it
    keys = _keys()
    defaults = {
        "AIRFLOW_HOME": str(airflow_home()),
        "AIRFLOW__CORE__DAGS_FOLDER": str(settings.DAGS_DIR),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DEFAULT_TIMEZONE": settings.TIMEZONE,
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": str(parallelism()),
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__CORE__FERNET_KEY": keys["fernet_key"],
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": connection.airflow_url(),
        # Local UI: the admin, and the people who sign corrections (role user: they may answer
        # only the steps assigned to them); passwords in passwords_file() (mode 0600).
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": ",".join(
            f"{u}:{'admin' if u == ADMIN_USER else 'user'}" for u in people
        ),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords_file()),
        "AIRFLOW__API_AUTH__JWT_SECRET": keys["jwt_secret"],
        "AIRFLOW__API__HOST": api_host(),
        "AIRFLOW__API__PORT": str(api_port()),
        "AIRFLOW__API__BASE_URL": api_url(),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{api_url()}/execution/",
        # Tasks talk to the api-server; on a busy 2-core machine 5 s (the default) is too short.
        "AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT": "30",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(airflow_home() / "logs"),
        "AIRFLOW_CONN_XIAOBEN_WAREHOUSE": warehouse.replace("postgresql://", "postgres://", 1),
        "SODA_CORE_TELEMETRY_ENABLED": "false",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "XIAOBEN_HOME": str(settings.state_dir()),
        "PYTHONPATH": str(settings.ROOT),
    }
    env = dict(os.environ)
    for key, value in {**defaults, **(extra or {})}.items():
        env.setdefault(key, value)
    return env


def apply(extra: dict[str, str] | None = None) -> None:
    """Put the platform's Airflow settings into this process before Airflow is imported."""
    os.environ.update(environ(extra))
    airflow_home().mkdir(parents=True, exist_ok=True)

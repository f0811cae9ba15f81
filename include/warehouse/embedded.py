"""An embedded PostgreSQL for machines that have no database server.

The binaries come from the `pgserver` wheel (PostgreSQL 16), so a fresh machine with only
Python gets a real server. We drive `initdb`/`pg_ctl` ourselves rather than through
`pgserver.get_server()` because that helper listens on a Unix socket only and stops the server
when the last Python process exits; the platform needs a long-lived server on a loopback TCP
port that Airflow, dbt, Soda and BI tools can all reach.
"""

from __future__ import annotations

import os
import pwd
import shutil
import stat
import subprocess
import tempfile
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

# Located without importing pgserver, whose import has side effects we do not use.
BIN = Path(find_spec("pgserver").origin).parent / "pginstall" / "bin"
# PostgreSQL refuses to run as root; as root we run it as this unprivileged system user.
SERVICE_USER = "xiaoben_pg"

# Tuned for a 2-core laptop-class machine doing bulk loads; durability of a crash in the last
# second is traded for speed (synchronous_commit), never correctness (fsync stays on).
SERVER_SETTINGS = {
    "shared_buffers": "256MB",
    "work_mem": "32MB",
    "maintenance_work_mem": "256MB",
    "max_connections": "200",
    "synchronous_commit": "off",
    "max_wal_size": "2GB",
    "timezone": "Asia/Shanghai",
    "log_timezone": "Asia/Shanghai",
    "password_encryption": "scram-sha-256",
}
# Every connection, socket or loopback, proves its password (no `trust`): the roles of
# include/warehouse/roles.py are only worth something if nobody can log in as another.
HBA = """# 由平台写入 (written by include/warehouse/embedded.py): no trust, passwords only
local   all  all                 scram-sha-256
host    all  all  127.0.0.1/32   scram-sha-256
host    all  all  ::1/128        scram-sha-256
"""


class EmbeddedError(RuntimeError):
    pass


@dataclass
class EmbeddedPostgres:
    datadir: Path
    port: int

    @property
    def log_file(self) -> Path:
        return self.datadir.parent / "postgres.log"

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://postgres:{self.password()}@127.0.0.1:{self.port}/{dbname}"

    def password(self) -> str:
        """The superuser's password, generated into the state folder (mode 0600)."""
        from include.warehouse import credentials

        return credentials.password("postgres")

    # -- lifecycle -------------------------------------------------------------------------
    def status(self) -> str:
        if not (self.datadir / "PG_VERSION").exists():
            return "未初始化 (not initialised)"
        out = self._pg_ctl(["status"])
        return "运行中 (running)" if out.returncode == 0 else "已停止 (stopped)"

    def is_running(self) -> bool:
        return (self.datadir / "PG_VERSION").exists() and self._pg_ctl(["status"]).returncode == 0

    def start(self) -> None:
        self._init_if_needed()
        if self.is_running():
            return
        opts = f"-h 127.0.0.1 -p {self.port} -k {self.datadir}"
        res = self._pg_ctl(["-w", "-t", "60", "-o", opts, "-l", str(self.log_file), "start"])
        if res.returncode != 0:
            tail = (
                self.log_file.read_text(errors="replace")[-2000:] if self.log_file.exists() else ""
            )
            raise EmbeddedError(
                f"嵌入式 PostgreSQL 启动失败 (port {self.port}, data {self.datadir}). "
                f"Is the port taken? Set XIAOBEN_PG_PORT to another port.\n{res.stderr}\n{tail}"
            )
        self._require_passwords()

    def _require_passwords(self) -> None:
        """Switch a server an older version initialised with `trust` to passwords (once)."""
        hba = self.datadir / "pg_hba.conf"
        if hba.read_text() == HBA:
            return
        import psycopg
        from psycopg import sql

        rules = [line.split() for line in hba.read_text().splitlines() if line.strip()[:1] != "#"]
        if any(
            "trust" in rule for rule in rules
        ):  # the superuser gets its password before the door closes
            with psycopg.connect(f"postgresql://postgres@127.0.0.1:{self.port}/postgres") as conn:
                conn.execute("set password_encryption = 'scram-sha-256'")
                conn.execute(sql.SQL("alter role postgres password {}").format(self.password()))
        hba.write_text(HBA)
        if self._user():
            shutil.chown(hba, self._user(), self._user())
        self._pg_ctl(["reload"])

    def stop(self, mode: str = "fast") -> None:
        """`fast` rolls back open transactions and closes sessions; `immediate` is a crash
        (recovery from the WAL at the next start), as when the machine loses power."""
        if self.is_running():
            self._pg_ctl(["-w", "-m", mode, "stop"])

    # -- internals -------------------------------------------------------------------------
    def _user(self) -> str | None:
        return SERVICE_USER if os.geteuid() == 0 else None

    def _init_if_needed(self) -> None:
        if (self.datadir / "PG_VERSION").exists():
            return
        self.datadir.mkdir(parents=True, exist_ok=True)
        user = self._user()
        if user:
            _ensure_service_user(user)
            _open_path_for(self.datadir, BIN.parent)
            for p in (self.datadir, self.datadir.parent):
                shutil.chown(p, user, user)
        pwfile = self.datadir.parent / ".initdb-password"
        fd = os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(self.password() + "\n")
        if user:
            shutil.chown(pwfile, user, user)
        try:
            res = self._run(
                BIN / "initdb",
                [
                    "-D",
                    str(self.datadir),
                    "-U",
                    "postgres",
                    "--auth=scram-sha-256",
                    f"--pwfile={pwfile}",
                    "--encoding=UTF8",
                    "--locale=C.UTF-8",
                    "--no-instructions",
                ],
            )
        finally:
            pwfile.unlink()
        if res.returncode != 0:
            raise EmbeddedError(f"initdb failed in {self.datadir}:\n{res.stderr}")
        conf = self.datadir / "postgresql.auto.conf"
        with conf.open("a") as f:
            for key, value in SERVER_SETTINGS.items():
                f.write(f"{key} = '{value}'\n")

    def _pg_ctl(self, args: list[str]) -> subprocess.CompletedProcess:
        return self._run(BIN / "pg_ctl", ["-D", str(self.datadir), *args])

    def _run(self, exe: Path, args: list[str]) -> subprocess.CompletedProcess:
        # Output goes to files, not pipes: the server that pg_ctl forks could otherwise inherit
        # a pipe and block us until it stops.
        with tempfile.TemporaryFile("w+") as err:
            res = subprocess.run(
                [str(exe), *args],
                stdout=subprocess.DEVNULL,
                stderr=err,
                text=True,
                user=self._user(),
                cwd="/",
            )
            err.seek(0)
            res.stderr = err.read()
        return res


def _ensure_service_user(name: str) -> None:
    try:
        pwd.getpwnam(name)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", name], check=True)


def _open_path_for(*paths: Path) -> None:
    """Let the service user traverse to the data dir and read the binaries."""
    rx = stat.S_IXOTH | stat.S_IROTH | stat.S_IXGRP | stat.S_IRGRP
    for path in paths:
        for parent in [path, *path.parents]:
            parent.chmod(parent.stat().st_mode | rx)
    for dirpath, _dirs, files in os.walk(BIN.parent):
        Path(dirpath).chmod(Path(dirpath).stat().st_mode | rx)
        for f in files:
            p = Path(dirpath) / f
            p.chmod(p.stat().st_mode | rx)

"""The platform's own secrets: database passwords of its roles and the personal-data key.

Nothing here is ever written to the repository or printed. On a machine without a configured
server (the embedded PostgreSQL of a trial or the demo) every secret is generated once into
`<state folder>/secrets/` (git-ignored, mode 0600, owner only). With a configured server
(XIAOBEN_DATABASE_URL / AIRFLOW_CONN_XIAOBEN_WAREHOUSE: a real deployment) the personal-data key
must be given as XIAOBEN_PII_KEY: the platform refuses to start without it, because a key it
invented would change every hash the day the state folder is lost.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from include import settings

PII_KEY_ENV = "XIAOBEN_PII_KEY"
MIN_KEY_CHARS = 32


class MissingSecret(SystemExit):
    """A secret the platform needs and does not invent (one Chinese line naming the setting)."""


def secrets_dir() -> Path:
    return settings.state_dir() / "secrets"


def private_json(path: Path, make: dict) -> dict:
    """A JSON file of secrets, created owner-only (0600) with `make`; new keys are added."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(make, f)
    os.chmod(path, 0o600)  # also tightens a file an older version left readable
    data = json.loads(path.read_text() or "{}")
    missing = {k: v for k, v in make.items() if k not in data}
    if missing:
        data.update(missing)
        path.write_text(json.dumps(data))
    return data


def password(role: str) -> str:
    """The login password of one of the platform's database roles (generated once).

    XIAOBEN_<ROLE>_PASSWORD (e.g. XIAOBEN_BI_PASSWORD for xiaoben_bi) overrides it, so a
    deployment can hand BI tools a password it manages itself.
    """
    env = f"XIAOBEN_{role.removeprefix('xiaoben_').upper()}_PASSWORD"
    if value := os.environ.get(env):
        return value
    return private_json(secrets_dir() / "roles.json", {role: secrets.token_urlsafe(24)})[role]


def _embedded() -> bool:
    from include.warehouse import connection

    return connection.configured_url() is None


def pii_key() -> str:
    """The secret key of the personal-data HMAC (include/warehouse/ddl/005_private.sql)."""
    if key := os.environ.get(PII_KEY_ENV):
        if len(key) < MIN_KEY_CHARS:
            raise MissingSecret(
                f"{PII_KEY_ENV} 太短（{len(key)} 个字符，至少 {MIN_KEY_CHARS}）；"
                '请用 python -c "import secrets; print(secrets.token_urlsafe(32))" 生成'
            )
        return key
    if not _embedded():
        raise MissingSecret(
            f"未设置个人信息密钥 {PII_KEY_ENV}（连接外部数据库时必须设置，妥善保管、不得更换）；"
            f'请在 .env 中设置 {PII_KEY_ENV}=（python -c "import secrets; '
            'print(secrets.token_urlsafe(32))" 生成）'
        )
    return private_json(secrets_dir() / "pii_key.json", {"key": secrets.token_urlsafe(32)})["key"]


def hmac_pads(key: str) -> tuple[bytes, bytes]:
    """HMAC-SHA256's inner and outer padded keys (RFC 2104), so SQL needs only sha256()."""
    import hashlib

    k = key.encode()
    k = hashlib.sha256(k).digest() if len(k) > 64 else k
    k = k.ljust(64, b"\0")
    return bytes(b ^ 0x36 for b in k), bytes(b ^ 0x5C for b in k)

"""The deployment's secrets, generated into its home on first start and kept there (mode 0600, in the
0700 Airflow home): the Fernet key that encrypts connections, the JWT secret every component signs and
checks tokens with, the person-key secret (the same for every quarter: keep the file), and the admin's
password when `--password` is not given. A secret given in the environment wins over the file."""

from __future__ import annotations

import os
import secrets as random
from pathlib import Path

from pipelines.airflow_metadata import fernet_key, secure_home
from pipelines.config import PERSON_KEY_ENV


def _kept(path: Path, make: str) -> str:
    """The secret in `path`, written with `make` (mode 0600) when there is none yet."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        if path.is_symlink() or not path.is_file():
            raise ValueError(f"{path} must be a regular file.") from None
        if path.stat().st_mode & 0o077:
            os.chmod(path, 0o600)
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(make + "\n")
    return make


def home_secrets(airflow_home: Path, password: str | None = None, env: dict[str, str] | None = None) -> dict[str, str]:
    """Every secret of the deployment whose Airflow home is `airflow_home`, created when missing."""
    env = os.environ if env is None else env
    secure_home(airflow_home)
    person_key = env.get(PERSON_KEY_ENV, "").strip() or _kept(airflow_home / "person_key_secret", random.token_hex(32))
    admin_file = airflow_home / "admin_password"
    if password:
        admin_file.unlink(missing_ok=True)
    return {
        "fernet_key": fernet_key(airflow_home),
        "jwt_secret": _kept(airflow_home / "jwt_secret", random.token_urlsafe(64)),
        "person_key_secret": person_key,
        "admin_password": password or _kept(admin_file, random.token_urlsafe(12)),
    }

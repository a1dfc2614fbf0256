"""The deployment's secrets, generated into its home on first start and kept there (mode 0600, in the
0700 Airflow home): the Fernet key that encrypts connections, the JWT secret every component signs and
checks tokens with, the person-key secret (the same for every quarter: keep the file), and the admin's
password when `--password` is not given. A secret given in the environment wins over the file."""

from __future__ import annotations

import os
import secrets as random
from pathlib import Path

from pipelines.airflow_metadata import fernet_key, kept_secret, secure_home
from pipelines.config import PERSON_KEY_ENV


def home_secrets(airflow_home: Path, password: str | None = None, env: dict[str, str] | None = None) -> dict[str, str]:
    """Every secret of the deployment whose Airflow home is `airflow_home`, created when missing."""
    env = os.environ if env is None else env
    secure_home(airflow_home)
    person_key = env.get(PERSON_KEY_ENV, "").strip() or kept_secret(
        airflow_home / "person_key_secret", random.token_hex(32)
    )
    admin_file = airflow_home / "admin_password"
    if password:
        admin_file.unlink(missing_ok=True)
    return {
        "fernet_key": fernet_key(airflow_home),
        "jwt_secret": kept_secret(airflow_home / "jwt_secret", random.token_urlsafe(64)),
        "person_key_secret": person_key,
        "admin_password": password or kept_secret(admin_file, random.token_urlsafe(12)),
    }

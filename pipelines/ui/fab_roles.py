"""The permission that unmasks personal data in the plugin, under Airflow's FAB auth manager.

FAB keeps permissions as (action, resource) pairs in the metadata database. This creates the pair
(`can_read`, `DTKS Data Pribadi`) - what `is_authorized_custom_view(method="GET", resource_name="DTKS Data
Pribadi")` asks FAB for - and the role `DTKS Pemeriksa` holding it, and, when users are named, gives them
the role as well as the roles they have (reading the runs themselves needs a role that reads DAG runs, e.g.
`Viewer`). Idempotent. Run where `airflow` runs, with the deployment's configuration:

    python -m pipelines.ui.fab_roles [--user NAME ...]
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any, Final

from pipelines.ui.airflow_access import UNMASK_RESOURCE

UNMASK_ACTION: Final = "can_read"
UNMASK_ROLE: Final = "DTKS Pemeriksa"


def ensure_unmask_role(security_manager: Any, users: Sequence[str] = ()) -> list[str]:
    """Create the permission and the role (if missing) and give the role to `users`; returns what it did."""
    done = []
    permission = security_manager.create_permission(UNMASK_ACTION, UNMASK_RESOURCE)
    role = security_manager.find_role(UNMASK_ROLE) or security_manager.add_role(UNMASK_ROLE)
    if permission not in role.permissions:
        security_manager.add_permission_to_role(role, permission)
        done.append(f"role {UNMASK_ROLE}: {UNMASK_ACTION} on {UNMASK_RESOURCE}")
    for name in users:
        user = security_manager.find_user(username=name)
        if user is None:
            raise SystemExit(f"No Airflow user named {name!r}.")
        if role not in user.roles:
            user.roles.append(role)
            security_manager.update_user(user)
            done.append(f"user {name}: role {UNMASK_ROLE}")
    return done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.ui.fab_roles", description=__doc__.split("\n")[0])
    parser.add_argument("--user", action="append", default=[], help="give this Airflow user the role (repeatable)")
    args = parser.parse_args(argv)
    from airflow.providers.fab.auth_manager.cli_commands.utils import get_application_builder

    with get_application_builder() as appbuilder:
        for line in ensure_unmask_role(appbuilder.sm, args.user) or ["nothing to do"]:
            print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

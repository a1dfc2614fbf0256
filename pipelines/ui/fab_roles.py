"""The plugin's roles under Airflow's FAB auth manager.

FAB keeps permissions as (action, resource) pairs in the metadata database. Two roles, added to whatever
roles a user has (reading the runs themselves needs a role that reads DAG runs, e.g. `Viewer`):

- `DTKS Pembaca`: (`can_read`, `Plugins`), without which Airflow's UI does not list the plugin's tab on a
  DAG run nor its menu (FAB's `Viewer` lacks it; the pages still open by their URL);
- `DTKS Pemeriksa`: the same, and (`can_read`, `DTKS Data Pribadi`), which is what
  `is_authorized_custom_view(method="GET", resource_name="DTKS Data Pribadi")` asks FAB for: unmasked traces,
  workbooks and village files.

Idempotent. Run where `airflow` runs, with the deployment's configuration:

    python -m pipelines.ui.fab_roles [--reader NAME ...] [--auditor NAME ...]
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any, Final

from pipelines.ui.airflow_access import UNMASK_RESOURCE

READ: Final = "can_read"
PLUGINS_RESOURCE: Final = "Plugins"  # FAB's resource for AccessView.PLUGINS
READER_ROLE: Final = "DTKS Pembaca"
UNMASK_ROLE: Final = "DTKS Pemeriksa"
ROLES: Final = {
    READER_ROLE: ((READ, PLUGINS_RESOURCE),),
    UNMASK_ROLE: ((READ, PLUGINS_RESOURCE), (READ, UNMASK_RESOURCE)),
}


def ensure_roles(security_manager: Any, readers: Sequence[str] = (), auditors: Sequence[str] = ()) -> list[str]:
    """Create the permissions and roles that are missing and give the roles to the users named; returns
    what it did."""
    done = []
    roles = {}
    for name, pairs in ROLES.items():
        role = security_manager.find_role(name) or security_manager.add_role(name)
        for action, resource in pairs:
            permission = security_manager.create_permission(action, resource)
            if permission not in role.permissions:
                security_manager.add_permission_to_role(role, permission)
                done.append(f"role {name}: {action} on {resource}")
        roles[name] = role
    for role_name, users in ((READER_ROLE, readers), (UNMASK_ROLE, auditors)):
        for username in users:
            user = security_manager.find_user(username=username)
            if user is None:
                raise SystemExit(f"No Airflow user named {username!r}.")
            if roles[role_name] not in user.roles:
                user.roles.append(roles[role_name])
                security_manager.update_user(user)
                done.append(f"user {username}: role {role_name}")
    return done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.ui.fab_roles", description=__doc__.split("\n")[0])
    parser.add_argument("--reader", action="append", default=[], help=f"give this user {READER_ROLE} (repeatable)")
    parser.add_argument("--auditor", action="append", default=[], help=f"give this user {UNMASK_ROLE} (repeatable)")
    args = parser.parse_args(argv)
    from airflow.providers.fab.auth_manager.cli_commands.utils import get_application_builder

    with get_application_builder() as appbuilder:
        for line in ensure_roles(appbuilder.sm, args.reader, args.auditor) or ["nothing to do"]:
            print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

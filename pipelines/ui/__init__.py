"""What the Airflow UI plugin (`plugins/dtks_plugin.py`) shows, as functions on a warehouse engine: a run's
summary (`runs`), the published quarters and their changes (`quarters`), the auditor's trace (`tracing`), the
HTML pages (`pages`) and the FastAPI app serving them (`app`), all tested without an Airflow deployment.
Only `airflow_access` (the app's user and permissions through Airflow's auth manager, the warehouse
connection) and `fab_roles` (the roles under the FAB auth manager) import Airflow."""

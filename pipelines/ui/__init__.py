"""What the Airflow UI plugin (`plugins/dtks_plugin.py`) shows, as functions on a warehouse engine: a run's
summary (`runs`), the published quarters and their changes (`quarters`), the auditor's trace (`tracing`), the
HTML pages (`pages`) and the FastAPI app serving them (`app`). Only `app` knows about HTTP; only the plugin
knows about Airflow: everything here is tested without an Airflow deployment."""

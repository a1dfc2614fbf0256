"""A real Airflow deployment of the pipeline as local processes (`dtks airflow start|stop`), and the REST
client `dtks run --airflow-url` drives it with.

- `settings`: the deployment's Airflow settings, declared once; `docker-compose.yml` is checked against them.
- `secrets`: the home's generated secrets (Fernet key, JWT secret, person key, admin password), mode 0600.
- `processes`: the process table (api-server, scheduler, dag-processor, triggerer, Celery workers), how each
  is launched (own process group, own log file, pid file) and stopped.
- `control`: start and stop, in order.
- `api`: the REST API v2 client (token, unpause, trigger, wait, the run's result).
"""

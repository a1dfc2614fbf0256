# The DTKS pipeline's Airflow image: the official Airflow image, the project's pinned dependencies
# (requirements.lock) and the project itself (the `pipelines` package and the `dtks` command).
# docker-compose.yml builds it with `docker compose build`. Nothing is installed at container start
# (no _PIP_ADDITIONAL_REQUIREMENTS).
#
# Keep the tag's Airflow version equal to the `apache-airflow==` pin in requirements.lock
# (tests/test_docker_compose.py checks this).
FROM apache/airflow:3.3.2-python3.11

# Directories the pipeline reads and writes. docker-compose.yml mounts host directories over them.
# Group 0 owns them, as in the official image, so any AIRFLOW_UID that runs with GID 0 can write.
USER root
RUN mkdir -p /opt/dtks/landing /opt/dtks/reports /opt/dtks/work /opt/dtks/src \
    && chown -R airflow:0 /opt/dtks \
    && chmod -R g+rwX /opt/dtks
USER airflow

# 1. The pinned dependencies. This layer is rebuilt only when requirements.lock changes.
#    Naming apache-airflow==$AIRFLOW_VERSION (the image's own version) as well makes the build fail,
#    instead of silently changing Airflow, if the lock ever pins a different Airflow.
COPY --chown=airflow:0 requirements.lock /opt/dtks/src/requirements.lock
RUN pip install --no-cache-dir "apache-airflow==${AIRFLOW_VERSION}" -r /opt/dtks/src/requirements.lock

# 2. The project, without touching the pins above. .dockerignore limits the build context to what is
#    needed here. DAGs, plugins and expectation suites go to their usual places under AIRFLOW_HOME;
#    a directory that is missing from the checkout (git does not keep empty ones) is created empty.
COPY --chown=airflow:0 . /opt/dtks/src/
RUN pip install --no-cache-dir --no-deps /opt/dtks/src \
    && for dir in dags plugins expectations; do \
         mkdir -p "/opt/airflow/${dir}"; \
         if [ -d "/opt/dtks/src/${dir}" ]; then cp -R "/opt/dtks/src/${dir}/." "/opt/airflow/${dir}/"; fi; \
       done

# The package is installed, not checked out: tell it where the suites are.
ENV DTKS_EXPECTATIONS_DIR=/opt/airflow/expectations

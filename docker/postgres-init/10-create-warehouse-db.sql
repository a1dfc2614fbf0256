-- Creates the DTKS warehouse database next to Airflow's metadata database (`airflow`).
--
-- The postgres image runs this file once, when it initialises an empty data volume
-- (docker-entrypoint-initdb.d), as POSTGRES_USER (`airflow`), which therefore owns the database.
-- The pipeline reaches it through the Airflow connection dtks_warehouse (AIRFLOW_CONN_DTKS_WAREHOUSE,
-- postgres://airflow:airflow@postgres:5432/dtks by default)
-- and keeps its tables in schema `dtks` there (contract section 3); this script creates no schema or table.
--
-- Safe to run again by hand on an existing volume:
--   docker compose exec -T postgres psql -U airflow -d airflow < docker/postgres-init/10-create-warehouse-db.sql
SELECT 'CREATE DATABASE dtks'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'dtks')\gexec

COMMENT ON DATABASE dtks IS 'DTKS quarterly cleansing warehouse (contract section 3)';

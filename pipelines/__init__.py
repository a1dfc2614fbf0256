"""DTKS quarterly pipeline: pure functions on files, DataFrames and connections.

Airflow only wires these together (see dags/dtks_quarterly.py); every stage is testable without it.
"""

__version__ = "0.1.0"

"""Ingest: reading the quarter's files.

- `readers`: one file's bytes -> header and rows of strings exactly as typed (CSV in any of the usual
  encodings and delimiters, XLSX), with notes on what was repaired. Light: `dtks trace` re-reads an input
  row with it without loading pandas.
- `intake`: every input file of the quarter -> one frame per kind, and a report per file.
"""

"""Fleet audits: many artifacts scanned by a process pool or a Dask cluster, results in SQLite or PostgreSQL.

`licensegate audit` (cli.py here) expands its inputs, opens the database (store.py), and runs the coordinator
(runner.py), which hands each artifact to `worker.scan_input` on an executor. `licensegate db` queries the result
(queries.py, overview.py). docs/audit.md is the user's guide, with the schema and example SQL.
"""

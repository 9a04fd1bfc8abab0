"""The service benchmark: binding decisions per second and latency of ``vifbind serve`` under
concurrent clients, on SQLite and PostgreSQL (``python -m bench.service``)."""

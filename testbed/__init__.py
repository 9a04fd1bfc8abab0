"""Real daemons started by the test suite and the benchmarks alike: a private PostgreSQL
cluster, ``vifbind serve`` processes, free TCP ports. Nothing here is shipped with vifbind."""

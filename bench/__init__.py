"""vifbind's benchmarks: one command each (``python -m bench.NAME``), sharing the reporting of
``bench.common``. See BENCHMARKS.md for how to run them and the figures so far."""

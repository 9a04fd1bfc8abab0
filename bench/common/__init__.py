"""What every benchmark shares: figures over repetitions, the measured processes' resources,
the machine and versions, the table for people and the record in BENCHMARKS.md."""

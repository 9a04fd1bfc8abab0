"""What the host plug benchmarks share: the peers' environments, vifbind's agent path and the
raw floors."""

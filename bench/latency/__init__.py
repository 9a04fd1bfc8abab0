"""Bind → plugged latency, one port at a time, with plain Open vSwitch and with OVN."""

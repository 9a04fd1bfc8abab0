"""vifbind: decide how a virtual interface is attached to the host network, and attach it."""

__version__ = "0.1.0"

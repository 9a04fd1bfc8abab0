"""The Linux bridge plug benchmark: N guest namespaces attached to a Linux bridge by vifbind,
by the CNI ``bridge`` plugin, and by the raw floor (``python -m bench.plug_bridge``)."""

"""The OVS plug benchmark: N VIFs plugged into and unplugged from one private userspace Open
vSwitch by vifbind's agent, by os-vif, and by the raw floor (``python -m bench.plug_ovs``)."""

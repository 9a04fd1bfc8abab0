"""The network service: networks, ports, host reports and bindings, and the side effects some
backends need (OVN northbound logical ports)."""

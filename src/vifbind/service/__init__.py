"""The network service: networks, ports, host reports and bindings over HTTP."""

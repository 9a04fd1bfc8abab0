"""Renderers: pure functions from a binding, the host attachment and a NIC to hypervisor config.

One module per hypervisor (``libvirt``, ``xen``, ``vmware``, ``hyperv``), each with a table of
the VIF types it can express. The NIC model is never read from the binding: it is a separate
input (``nic``), validated per hypervisor. Nothing here performs I/O.
"""

"""HTTP routers, one per resource; thin: they authorise, call the service modules, answer."""

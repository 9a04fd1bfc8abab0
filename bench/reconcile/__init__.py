"""An agent restart on a host with thousands of plugged ports, some drifted, some orphaned."""

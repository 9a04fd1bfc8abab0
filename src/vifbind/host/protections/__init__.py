"""Host-side protections: what a port's guest may send (rules) and how nftables enforces it."""

"""Guests and hosts as network namespaces, and the traffic checks run between them."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

from vifbind import sandbox

ECHO_SERVER = """
import socket, sys
s = socket.socket(socket.AF_INET6 if ':' in sys.argv[1] else socket.AF_INET)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(1); s.settimeout(float(sys.argv[3]))
print('ready', flush=True)
c, _ = s.accept(); c.settimeout(5)
while True:
    data = c.recv(65536)
    if not data:
        break
    c.sendall(data)
"""

ECHO_CLIENT = """
import socket, sys
c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=float(sys.argv[3]))
for i in range(20):
    payload = (b'%d-' % i) * 400
    c.sendall(payload)
    got = b''
    while len(got) < len(payload):
        chunk = c.recv(65536)
        if not chunk:
            sys.exit(2)
        got += chunk
    if got != payload:
        sys.exit(3)
c.close()
"""


def token() -> str:
    """A short token unique to this run (pid + random), for namespace and device names."""
    return f"{os.getpid() % 100000}{secrets.token_hex(2)}"


class Namespace(sandbox.Namespace):
    """A network namespace this test run created (and deletes), with traffic checks."""

    def tcp_echo(self, server: Namespace, address: str, port: int = 5001) -> bool:
        """Hold a TCP connection to ``server`` and echo 20 messages of 1.6 kB across it."""
        srv = subprocess.Popen(
            ["ip", "netns", "exec", server.name, sys.executable, "-c", ECHO_SERVER,
             address, str(port), "10"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        try:
            assert srv.stdout is not None
            assert srv.stdout.readline().strip() == "ready"
            client = subprocess.run(
                ["ip", "netns", "exec", self.name, sys.executable, "-c", ECHO_CLIENT,
                 address, str(port), "5"],
                capture_output=True, check=False, timeout=30,
            )  # fmt: skip
            return client.returncode == 0
        finally:
            srv.kill()
            srv.wait()

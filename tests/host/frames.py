"""Raw Ethernet frames sent from and captured in guest namespaces (AF_PACKET), for checks that
ping cannot make: forged ARP, VLAN-tagged frames, rogue DHCP servers."""

from __future__ import annotations

import socket
import struct
import subprocess
import sys
import time

from guests import Namespace

SNIFFER = """
import socket, sys, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.bind((sys.argv[1], 0)); s.settimeout(0.1)
print('ready', flush=True)
end = time.time() + float(sys.argv[2])
while time.time() < end:
    try:
        print(s.recv(65535).hex(), flush=True)
    except socket.timeout:
        pass
"""

SENDER = """
import socket, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((sys.argv[1], 0))
for _ in range(3):
    s.send(bytes.fromhex(sys.argv[2]))
"""

BROADCAST = b"\xff" * 6


def mac_bytes(mac: str) -> bytes:
    return bytes.fromhex(mac.replace(":", ""))


def arp_reply(src_mac: str, sender_mac: str, sender_ip: str, target_ip: str) -> bytes:
    """A gratuitous-style ARP reply claiming ``sender_ip`` is at ``sender_mac``."""
    payload = struct.pack("!HHBBH", 1, 0x0800, 6, 4, 2)
    payload += mac_bytes(sender_mac) + socket.inet_aton(sender_ip)
    payload += BROADCAST + socket.inet_aton(target_ip)
    return BROADCAST + mac_bytes(src_mac) + b"\x08\x06" + payload


def vlan_tagged(src_mac: str, vid: int = 5) -> bytes:
    """An 802.1Q-tagged ARP frame: what a guest would use to slip past per-protocol checks."""
    inner = arp_reply(src_mac, src_mac, "192.0.2.200", "192.0.2.201")[12:]
    return BROADCAST + mac_bytes(src_mac) + b"\x81\x00" + struct.pack("!H", vid) + inner


def received(sender: Namespace, receiver: Namespace, frame: bytes, needle: bytes) -> bool:
    """Send ``frame`` from ``sender``'s eth0; whether ``receiver``'s eth0 saw ``needle``."""
    sniff = subprocess.Popen(
        ["ip", "netns", "exec", receiver.name, sys.executable, "-c", SNIFFER, "eth0", "1.5"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        assert sniff.stdout is not None
        assert sniff.stdout.readline().strip() == "ready"
        time.sleep(0.05)
        sender.exec(sys.executable, "-c", SENDER, "eth0", frame.hex())
        out, _ = sniff.communicate(timeout=10)
    finally:
        if sniff.poll() is None:
            sniff.kill()
            sniff.wait()
    return needle.hex() in out

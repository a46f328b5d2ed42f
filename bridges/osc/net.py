"""The network edge of the OSC server: address resolution, the sender allow-list, a token
bucket for replies and logs, and the kernel's own figures for a UDP socket.

Cheat sheet::

    family, address = resolve("127.0.0.1", 9000)     # UserInputError naming the host when it cannot
    is_allowed("192.168.1.7", allow)                  # loopback always; else a listed network
    limiter = RateLimiter(per_s=20, burst=64); limiter.allow()
    socket_stats(sock)                                # (bytes waiting, datagrams dropped), Linux
"""

from __future__ import annotations

import ipaddress
import os
import socket
import threading
import time

from ganshot.engine.errors import UserInputError

__all__ = ["RateLimiter", "resolve", "is_allowed", "socket_stats"]


class RateLimiter:
    """Token bucket: ``allow()`` is True at most ``burst`` times at once, refilled at ``per_s``."""

    def __init__(self, per_s: float, burst: int, clock=time.monotonic):
        self.per_s, self.burst, self._clock = float(per_s), float(burst), clock
        self._tokens, self._last = float(burst), clock()
        self._lock = threading.Lock()

    def allow(self) -> bool:
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.per_s)
            self._last = now
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return True
            return False


def resolve(host: str, port: int):
    """(address family, socket address) of ``host``:``port`` for a UDP socket."""
    try:
        info = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
    except (socket.gaierror, UnicodeError) as err:
        raise UserInputError(f"OSC host {host!r:.80}: {err}") from None
    family, _, _, _, address = info[0]
    return family, address


def is_allowed(host: str, allow) -> bool:
    """May ``host`` (a sender's IP string) send? Empty ``allow``: anyone; else loopback or a listed network."""
    if not allow:
        return True
    try:
        ip = ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return False
    if ip.version == 6 and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_loopback or any(ip in net for net in allow if net.version == ip.version)


def socket_stats(sock) -> tuple[int, int] | None:
    """(bytes waiting, datagrams dropped) of a UDP socket, from the kernel's table (Linux
    /proc/net/udp{,6}: rx_queue and drops); None where there is no such table."""
    try:
        inode = str(os.fstat(sock.fileno()).st_ino)
        name = "/proc/net/udp6" if sock.family == socket.AF_INET6 else "/proc/net/udp"
        with open(name) as table:
            for line in table:
                fields = line.split()
                if len(fields) > 12 and fields[9] == inode:
                    return int(fields[4].split(":")[1], 16), int(fields[12])
    except (OSError, ValueError):
        pass
    return None

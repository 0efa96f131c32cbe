"""The listening sockets of ``tinydesk serve``: bound before anything else starts, so that a
busy port is one line (and exit code 2), and the address logged is the one really bound."""

from __future__ import annotations

import errno
import socket

from bot.config import StartupError

ALL_IPV4 = "0.0.0.0"
ALL_IPV6 = "::"
CHOOSE_ANOTHER = "choose another with --port or PORT"


def bind(host: str, port: int) -> list[socket.socket]:
    """Listening sockets for ``host:port`` (every address a host name resolves to; ``::``
    also takes IPv4 where the system allows). ``StartupError`` says why not."""
    host = host.strip("[]")
    try:
        if host == ALL_IPV6 and socket.has_dualstack_ipv6():
            return [socket.create_server(("", port), family=socket.AF_INET6, dualstack_ipv6=True)]
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except OSError as exc:
        raise StartupError([_cannot_listen(host, port, exc)]) from exc
    sockets: list[socket.socket] = []
    try:
        for family, address in dict.fromkeys((a[0], a[4]) for a in addresses):
            sock = socket.socket(family, socket.SOCK_STREAM)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind((address[0], port, *address[2:]))
            sock.listen(128)
            if port == 0:  # a host name's other addresses take the port the first one got
                port = sock.getsockname()[1]
    except OSError as exc:
        for sock in sockets:
            sock.close()
        raise StartupError([_cannot_listen(host, port, exc)]) from exc
    return sockets


def _cannot_listen(host: str, port: int, exc: OSError) -> str:
    where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    if isinstance(exc, socket.gaierror):
        why = (
            f'unknown host "{host}" (use an address of this machine, e.g. 127.0.0.1, '
            f"or {ALL_IPV4} for all interfaces)"
        )
    elif exc.errno == errno.EADDRINUSE:
        why = f"address already in use (another TinyDesk? {CHOOSE_ANOTHER})"
    elif exc.errno == errno.EACCES:
        why = (
            "permission denied (ports below 1024 need root or the CAP_NET_BIND_SERVICE "
            f"capability; {CHOOSE_ANOTHER})"
        )
    elif exc.errno == errno.EADDRNOTAVAIL:
        why = f"{host} is not an address of this machine (check --host)"
    else:
        why = (exc.strerror or str(exc)).lower()
    return f"cannot listen on {where}: {why}"


def listening_line(sockets: list[socket.socket]) -> str:
    """Where the server listens, as bound: ``listening on http://127.0.0.1:8000``,
    ``listening on http://[::1]:8123``, or, for the wildcard addresses, ``listening on all
    interfaces, port 8000 (http://localhost:8000)``."""
    bound = [sock.getsockname() for sock in sockets]
    port = bound[0][1]
    hosts = [address[0] for address in bound]
    if any(host in (ALL_IPV4, ALL_IPV6) for host in hosts):
        if hosts == [ALL_IPV6]:
            dual = not sockets[0].getsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY)
            which = "all interfaces (IPv4 and IPv6)" if dual else "all IPv6 interfaces"
        else:
            which = "all interfaces"
        return f"listening on {which}, port {port} (http://localhost:{port})"
    urls = [f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}" for host in hosts]
    return "listening on " + " and ".join(urls)

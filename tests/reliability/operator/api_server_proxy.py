"""A TCP proxy between the operator and the API server that can cut, freeze and partition.

The operator reaches the API server only through this proxy (its kubeconfig points here;
TLS passes through untouched, the server certificate names 127.0.0.1 whatever the port), so
a test can take the API server away from the operator alone while the rest of the control
plane keeps running:

- `cut()`: every open connection is reset and new ones are refused, as when the API server
  process restarts;
- `freeze()`: connections stay open but no byte moves either way, as when the API server is
  paused or overloaded; `restore()` lets the same connections carry on;
- `partition()` then `restore()`: the connections open during the partition never carry
  another byte, and are never closed either (half-open, as after a network partition or
  a crash of the API server's host); new connections hang unanswered in the listen backlog
  during the partition and are served once it is over.
"""

from __future__ import annotations

import contextlib
import select
import socket
import struct
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import yaml

_CHUNK = 65536


def _readable(sock: socket.socket, timeout: float) -> bool:
    """Whether `sock` has something to read within `timeout` seconds.

    poll, not select: select() cannot watch a descriptor numbered 1024 or above, and a long
    pytest session holds that many; the proxy's threads then died on the ValueError and the
    operator behind it could not reach the API server at all (seen in a full CI run).
    """
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    return bool(poller.poll(timeout * 1000))


@dataclass
class _Link:
    """One proxied connection: the client side and the API server side."""

    client: socket.socket
    server: socket.socket
    abandoned: bool = False

    def reset(self) -> None:
        # SO_LINGER with a zero timeout makes close() send RST, like a dead process' kernel.
        for sock in (self.client, self.server):
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            with contextlib.suppress(OSError):
                sock.close()


@dataclass
class ApiServerProxy:
    """Forwards 127.0.0.1:`port` to `upstream_host`:`upstream_port` until told otherwise."""

    upstream_host: str
    upstream_port: int
    port: int = 0
    _links: list[_Link] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _flowing: threading.Event = field(default_factory=threading.Event)
    _accepting: threading.Event = field(default_factory=threading.Event)
    _stopped: threading.Event = field(default_factory=threading.Event)
    _listener: socket.socket | None = None
    _refusing: bool = False

    def start(self) -> None:
        """Listen and forward; `port` is chosen now if it was 0."""
        self._flowing.set()
        self._accepting.set()
        self._listen()

    def _listen(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(128)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while not self._stopped.is_set():
            self._accepting.wait()
            try:
                if not _readable(listener, 0.2) or not self._accepting.is_set():
                    continue
                client, _ = listener.accept()
            except (OSError, ValueError):
                return  # the listener was closed: cut() or stop()
            try:
                server = socket.create_connection((self.upstream_host, self.upstream_port))
            except OSError:
                client.close()
                continue
            link = _Link(client, server)
            with self._lock:
                self._links.append(link)
            for source, target in ((client, server), (server, client)):
                threading.Thread(
                    target=self._pump, args=(link, source, target), daemon=True
                ).start()

    def _pump(self, link: _Link, source: socket.socket, target: socket.socket) -> None:
        while not self._stopped.is_set():
            self._flowing.wait()
            if link.abandoned:
                self._stopped.wait()  # half-open: hold the socket, move nothing, ever
                return
            try:
                if not _readable(source, 0.2):
                    continue
                if not self._flowing.is_set() or link.abandoned:
                    continue  # frozen while waiting: leave the bytes in the kernel buffer
                data = source.recv(_CHUNK)
                if not data:
                    with contextlib.suppress(OSError):
                        target.shutdown(socket.SHUT_WR)
                    return
                target.sendall(data)
            except (OSError, ValueError):
                link.reset()
                return

    def _close_listener(self) -> None:
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.close()
            self._listener = None

    def cut(self) -> None:
        """Reset every connection and refuse new ones until `restore()`."""
        self._close_listener()
        self._refusing = True
        with self._lock:
            links, self._links = self._links, []
        for link in links:
            link.reset()

    def freeze(self) -> None:
        """Stop moving bytes on every connection, old and new, until `restore()`."""
        self._flowing.clear()

    def partition(self) -> None:
        """Make today's connections half-open for good; leave new ones unanswered."""
        self._accepting.clear()
        with self._lock:
            for link in self._links:
                link.abandoned = True

    def restore(self) -> None:
        """Forward again: frozen connections resume, abandoned ones stay dead."""
        if self._refusing:
            self._listen()
            self._refusing = False
        self._accepting.set()
        self._flowing.set()

    def stop(self) -> None:
        """Close everything."""
        self._stopped.set()
        self._flowing.set()
        self._accepting.set()
        self._close_listener()
        with self._lock:
            links, self._links = self._links, []
        for link in links:
            link.reset()


def kubeconfig_through(source: Path, target: Path, port: int) -> Path:
    """A copy of the kubeconfig `source` whose server is 127.0.0.1:`port`."""
    config = yaml.safe_load(source.read_text())
    for cluster in config["clusters"]:
        cluster["cluster"]["server"] = f"https://127.0.0.1:{port}"
    target.write_text(yaml.safe_dump(config))
    return target


def proxy_in_front_of(kubeconfig: Path) -> ApiServerProxy:
    """A started proxy to the API server that the kubeconfig `kubeconfig` names."""
    config = yaml.safe_load(kubeconfig.read_text())
    server = urlsplit(config["clusters"][0]["cluster"]["server"])
    assert server.hostname is not None
    assert server.port is not None
    proxy = ApiServerProxy(server.hostname, server.port)
    proxy.start()
    return proxy

"""A real DNS server on loopback for the address checks (dnslib): answers from a zone given as
text, NXDOMAIN for names it does not hold, SERVFAIL for names marked failing, and no answer at
all (the client times out) for names under a domain marked silent."""

from __future__ import annotations

import socket

from dnslib import QTYPE, RCODE, RR
from dnslib.server import BaseResolver, DNSError, DNSLogger, DNSServer


class ZoneResolver(BaseResolver):
    def __init__(self, zone: str, failing: set[str], silent: set[str] | None = None):
        self.records = RR.fromZone(zone)
        self.by_name: dict[str, list[RR]] = {}  # a zone of thousands of names answers as fast as one
        for record in self.records:
            self.by_name.setdefault(str(record.rname).rstrip(".").lower(), []).append(record)
        self.failing = failing
        self.silent = silent if silent is not None else set()
        self.asked: list[tuple[str, str]] = []

    def resolve(self, request, handler):
        name = str(request.q.qname).rstrip(".").lower()
        kind = QTYPE[request.q.qtype]
        self.asked.append((name, kind))
        if any(name == d or name.endswith("." + d) for d in self.silent):
            raise DNSError("silent")  # dnslib's handler sends nothing back
        reply = request.reply()
        known = self.by_name.get(name, [])
        if name in self.failing:
            reply.header.rcode = RCODE.SERVFAIL
        elif not known:
            reply.header.rcode = RCODE.NXDOMAIN
        for record in known:
            if QTYPE[record.rtype] == kind:
                reply.add_answer(record)
        return reply


class LocalDns:
    def __init__(self, zone: str, failing: set[str] = frozenset(), silent: set[str] = frozenset()):
        self.resolver = ZoneResolver(zone, set(failing), set(silent))
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        quiet = DNSLogger("-request,-reply,-truncated,-error,-recv,-send,-data")
        self.server = DNSServer(self.resolver, address="127.0.0.1", port=self.port, logger=quiet)

    @property
    def nameservers(self) -> str:
        return f"127.0.0.1:{self.port}"

    def __enter__(self) -> LocalDns:
        self.server.start_thread()
        return self

    def __exit__(self, *exc) -> None:
        self.server.stop()

"""A real DNS server on loopback for the address checks (dnslib): answers from a zone given as
text, NXDOMAIN for names it does not hold, SERVFAIL for names marked failing."""

from __future__ import annotations

import socket

from dnslib import QTYPE, RCODE, RR
from dnslib.server import BaseResolver, DNSLogger, DNSServer


class ZoneResolver(BaseResolver):
    def __init__(self, zone: str, failing: set[str]):
        self.records = RR.fromZone(zone)
        self.failing = failing
        self.asked: list[tuple[str, str]] = []

    def resolve(self, request, handler):
        name = str(request.q.qname).rstrip(".").lower()
        kind = QTYPE[request.q.qtype]
        self.asked.append((name, kind))
        reply = request.reply()
        known = [r for r in self.records if str(r.rname).rstrip(".").lower() == name]
        if name in self.failing:
            reply.header.rcode = RCODE.SERVFAIL
        elif not known:
            reply.header.rcode = RCODE.NXDOMAIN
        for record in known:
            if QTYPE[record.rtype] == kind:
                reply.add_answer(record)
        return reply


class LocalDns:
    def __init__(self, zone: str, failing: set[str] = frozenset()):
        self.resolver = ZoneResolver(zone, set(failing))
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

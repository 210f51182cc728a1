"""One conversation per company: of the addresses found at one company (one
registered domain; public mail domains such as gmail.com apart, each address its own), a campaign
enrolls `per_company` (default 1), a named person's address before a role address."""

from __future__ import annotations

import uuid

import psycopg
from tld import get_fld

from shared.core import db

ROLES = frozenset(
    [
        "info",
        "hello",
        "hola",
        "contact",
        "contacto",
        "kontakt",
        "office",
        "oficina",
        "admin",
        "administracion",
        "sales",
        "ventas",
        "support",
        "soporte",
        "team",
        "mail",
        "email",
        "enquiries",
        "inquiries",
        "reception",
        "recepcion",
        "booking",
        "bookings",
        "reservas",
        "reservations",
        "studio",
        "estudio",
        "bonjour",
        "ciao",
        "service",
        "servicio",
        "help",
        "ayuda",
        "general",
        "marketing",
        "hr",
        "jobs",
        "careers",
        "empleo",
        "noreply",
        "no-reply",
        "webmaster",
        "postmaster",
        "billing",
        "facturacion",
        "accounts",
        "press",
        "prensa",
        "events",
        "eventos",
        "news",
        "newsletter",
        "shop",
        "tienda",
        "orders",
        "pedidos",
        "classes",
        "clases",
    ]
)


def company_of(email: str) -> str:
    domain = email.rpartition("@")[2].lower()
    return get_fld(domain, fix_protocol=True, fail_silently=True) or domain


def is_role(email: str) -> bool:
    return email.partition("@")[0].lower() in ROLES


def choose(
    conn: psycopg.Connection,
    campaign_id: uuid.UUID,
    emails: list[str],
    names: dict[str, str],
    per_company: int,
) -> set[str]:
    """The addresses to enroll: per company, as many as the campaign has room for: first those
    the page names a person for, then other personal-looking addresses, then role addresses."""
    companies: dict[str, list[str]] = {}
    for email in emails:
        companies.setdefault(company_of(email), []).append(email)
    chosen: set[str] = set()
    for domain, found in companies.items():
        if db.fetch_row(conn, "is-public-mail-domain", domain=email_domain(found[0]))["public"]:
            chosen.update(found)
            continue
        room = (
            per_company
            - db.fetch_row(conn, "enrolled-at-company", campaign_id=campaign_id, domain=domain)["n"]
        )
        people_first = sorted(found, key=lambda e: (e not in names, is_role(e), found.index(e)))
        chosen.update(people_first[: max(room, 0)])
    return chosen


def email_domain(email: str) -> str:
    return email.rpartition("@")[2].lower()

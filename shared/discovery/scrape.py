"""scrape_url: from a prospect's site to contacts, crawled politely and safely."""

from __future__ import annotations

import dataclasses
import uuid

import psycopg
from psycopg.types.json import Jsonb

from shared.core import db, places
from shared.core.config import get_settings
from shared.core.logs import get_logger
from shared.core.work import SCRAPE
from shared.discovery import addresses, companies, contacts, fetch, forms, phones, summary
from shared.discovery.rows import ScrapeContext

log = get_logger(__name__)
# A business site lists a few addresses; a page with hundreds is a directory, not a prospect.
MAX_CONTACTS_PER_SITE = 25
# Nothing found on a page its scripts draw says nothing about the business: recorded as this,
# never as a site without contacts.
RENDERED_BY_JAVASCRIPT = "content rendered by JavaScript"
MAX_PHONES_KEPT = 5


def contact_forms(pages: list[fetch.Page]) -> tuple[list[forms.Form], list[str]]:
    """The usable contact forms of the pages, and why the others are never used."""
    usable: list[forms.Form] = []
    refused: list[str] = []
    for page in pages:
        for form in forms.find(page.text, page.url):
            try:
                if form.refusal is None and not fetch.robots_allows(form.action):
                    form.refusal = "robots.txt disallows its action"
            except fetch.FetchError as exc:
                form.refusal = f"its action cannot be reached safely ({exc})"
            if form.refusal:
                refused.append(f"{form.page_url}: {form.refusal}")
            elif all(form.action != other.action for other in usable):
                usable.append(form)
    return usable, refused


@dataclasses.dataclass
class Site:
    """What one crawl of a prospect's site found."""

    pages: list[fetch.Page]
    found: contacts.Contacts
    found_on: dict[str, str]  # address or phone -> the page it was first found on (GDPR Article 14)
    usable_forms: list[forms.Form]
    refused_forms: list[str]
    about: dict  # the first page's summary (summary.page_summary)


def scrape_url(row: dict) -> str:
    """One claimed scrape result: crawl the site politely, extract contacts, link them."""
    with db.transaction() as conn:
        ctx = db.fetch_row(conn, "get-scrape-context", ScrapeContext, id=row["id"])
    language = ctx.language or ctx.default_language
    url = ctx.website_url
    try:
        if not fetch.robots_allows(url):
            with db.transaction() as conn:
                SCRAPE.finish(conn, row, "skipped", "skipped: robots.txt disallows crawling this page")
            return "skipped"
        first = fetch.fetch(url)
    except fetch.FetchError as exc:
        return _fetch_failed(row, exc)

    site = crawl(first, language, ctx.timezone)
    if unreadable(site):
        with db.transaction() as conn:
            _save_scrape(conn, row, site)
            SCRAPE.finish(conn, row, "failed", f"failed: {RENDERED_BY_JAVASCRIPT}")
        return "failed"
    try:
        checked, refused = _deliverable(site.found.emails[:MAX_CONTACTS_PER_SITE])
    except addresses.DnsUnavailable as exc:
        with db.transaction() as conn:
            return SCRAPE.retry(conn, row, str(exc))
    with db.transaction() as conn:
        _save_scrape(conn, row, site)
        form_ids = _save_forms(conn, ctx, row, site.usable_forms)
        reachable = _save_contacts(conn, ctx, row, site, checked, language)
        enrolled = companies.choose(conn, ctx.campaign_id, list(reachable), site.found.names, ctx.per_company)
        linked = _link(conn, ctx, enrolled, reachable)
        if not reachable and site.usable_forms and ctx.form_channel:
            zone = places.contact_zone(_first_phone(site), None, site.found.region, _sending_zone(ctx))
            linked += _enroll_form(conn, ctx, row, site, form_ids, zone)
        SCRAPE.finish(conn, row, "completed", _outcome(site, reachable, enrolled, refused, linked))
    return "completed"


def _fetch_failed(row: dict, exc: fetch.FetchError) -> str:
    """The site's first page could not be fetched: tried again later when that may pass."""
    reason = str(exc)
    with db.transaction() as conn:
        # Worth another try later; anything else (not HTML, too large, 4xx, blocked) is final.
        if isinstance(exc, fetch.Transient):
            return SCRAPE.retry(conn, row, reason)
        SCRAPE.finish(conn, row, "failed", f"failed: {reason}")
    return "failed"


def crawl(first: fetch.Page, language: str | None, zone: str | None) -> Site:
    """The first page, the contact, about and team pages it links to, and what they hold."""
    pages = [first, *_extra_pages(first)]
    found = contacts.Contacts()
    found_on: dict[str, str] = {}
    for page in pages:
        more = contacts.extract(page.text, page.url, language, zone)
        _merge(found, found_on, more, page.url)
        if page is first:
            found.rendered_by_javascript = more.rendered_by_javascript
    usable, refused = contact_forms(pages)
    return Site(pages, found, found_on, usable, refused, _summary(first))


def _merge(found: contacts.Contacts, found_on: dict[str, str], more: contacts.Contacts, url: str) -> None:
    """One page's contacts added to the site's, each kept with the first page it is on."""
    for value in more.emails + more.phones:
        found_on.setdefault(value, url)
    found.emails += [e for e in more.emails if e not in found.emails]
    found.phones += [p for p in more.phones if p not in found.phones]
    for number, kind in more.phone_kinds.items():
        # The first page's word for a number, unless another page links it to a messenger.
        if number not in found.phone_kinds or kind in (phones.WHATSAPP, phones.VIBER):
            found.phone_kinds[number] = kind
    found.names.update(more.names)
    found.region = found.region or more.region


def unreadable(site: Site) -> bool:
    """The site's first page is drawn by its scripts and nothing, not even its data, gave a
    contact or a form."""
    found = site.found
    return found.rendered_by_javascript and not (found.emails or found.phones or site.usable_forms)


def phones_of(site: Site) -> list[dict]:
    """The first phones, each with how the page gave it (a WhatsApp or Viber link, a tel: link,
    data, text), what libphonenumber says it is (mobile, fixed_line…) and the page it is on, so a
    later channel can tell a WhatsApp number from a landline."""
    return [
        {
            "number": number,
            "kind": site.found.phone_kinds.get(number, phones.TEXT),
            "line": phones.line_type(number),
            "source_url": site.found_on.get(number),
        }
        for number in site.found.phones[:MAX_PHONES_KEPT]
    ]


def _extra_pages(first: fetch.Page) -> list[fetch.Page]:
    pages = []
    for link in contacts.contact_links(first.text, first.url, get_settings().crawl_extra_pages):
        try:
            if fetch.robots_allows(link):
                pages.append(fetch.fetch(link))
        except fetch.FetchError as exc:
            log.info("extra page skipped", extra={"url": link, "reason": str(exc)})
    return pages


def _summary(page: fetch.Page) -> dict:
    try:
        return summary.page_summary(page.text, page.url)
    except Exception:
        # The contacts do not depend on the summary (trafilatura failing on a page, or not
        # importable at all): they are recorded, and drafting writes without the site's text.
        log.warning(
            "page summary failed; contacts kept, summary left empty", exc_info=True, extra={"url": page.url}
        )
        return summary.NO_SUMMARY


def _deliverable(emails: list[str]) -> tuple[list[str], list[str]]:
    """The addresses that can receive mail, sorted (so concurrent scrapes of one organization
    lock its contacts in the same order), and why the others cannot."""
    checked, refused = [], []
    for email in sorted(emails):
        reason = addresses.refusal(email)
        if reason:
            refused.append(f"{email}: {reason}")
        else:
            checked.append(email)
    return checked, refused


def _save_scrape(conn: psycopg.Connection, row: dict, site: Site) -> None:
    db.execute(
        conn,
        "save-scrape",
        id=row["id"],
        emails=site.found.emails,
        phones=site.found.phones,
        text=site.about["text"],
        title=site.about["title"],
        description=site.about["description"],
        site_name=site.about["site_name"],
        pages=len(site.pages),
    )


def _save_forms(
    conn: psycopg.Connection, ctx: ScrapeContext, row: dict, usable: list[forms.Form]
) -> dict[str, uuid.UUID]:
    """Each usable form's row, by its action."""
    form_ids: dict[str, uuid.UUID] = {}
    for form in usable:
        form_ids[form.action] = db.fetch_row(
            conn,
            "save-contact-form",
            organization_id=ctx.organization_id,
            scrape_id=row["id"],
            site=forms.site_of(form.page_url),
            page_url=form.page_url,
            action=form.action,
            method=form.method,
            enctype=form.enctype,
            fields=Jsonb([dataclasses.asdict(f) for f in form.fields]),
            roles=Jsonb(form.roles),
        )["id"]
    return form_ids


def _first_phone(site: Site) -> str | None:
    return site.found.phones[0] if site.found.phones else None


def _sending_zone(ctx: ScrapeContext) -> str | None:
    return ctx.timezone if ctx.timezone != "recipient" else None


def _save_contacts(
    conn: psycopg.Connection,
    ctx: ScrapeContext,
    row: dict,
    site: Site,
    checked: list[str],
    language: str | None,
) -> dict[str, uuid.UUID]:
    """One contact per deliverable address (an address the organization knows is enriched);
    those no one has asked us to leave alone, by address."""
    phone = _first_phone(site)
    reachable: dict[str, uuid.UUID] = {}
    for email in checked:
        contact = db.fetch_row(
            conn,
            "upsert-contact",
            organization_id=ctx.organization_id,
            campaign_id=ctx.campaign_id,
            scrape_id=row["id"],
            email=email,
            phone=phone,
            name=site.found.names.get(email),
            language=language.split("-")[0] if language else None,
            extra=Jsonb(
                {
                    "source_url": site.found_on.get(email, ctx.website_url),
                    "page_title": site.about["title"],
                    "site_name": site.about["site_name"],
                    "phones": phones_of(site),
                }
            ),
            timezone=places.contact_zone(phone, email, site.found.region, _sending_zone(ctx)),
        )
        if not contact["suppressed"]:
            reachable[email] = contact["id"]
    return reachable


def _link(
    conn: psycopg.Connection, ctx: ScrapeContext, enrolled: set[str], reachable: dict[str, uuid.UUID]
) -> int:
    linked = 0
    for email in sorted(enrolled):
        linked += bool(
            db.fetch_one(conn, "link-contact", campaign_id=ctx.campaign_id, contact_id=reachable[email])
        )
    return linked


def _enroll_form(
    conn: psycopg.Connection,
    ctx: ScrapeContext,
    row: dict,
    site: Site,
    form_ids: dict[str, uuid.UUID],
    zone: str | None,
) -> int:
    """No address to write to: the business is reached through its contact form (one contact
    per site per organization)."""
    form, about = site.usable_forms[0], site.about
    contact = db.fetch_row(
        conn,
        "upsert-form-contact",
        organization_id=ctx.organization_id,
        campaign_id=ctx.campaign_id,
        scrape_id=row["id"],
        form_id=form_ids[form.action],
        site=forms.site_of(form.page_url),
        name=about["site_name"] or about["title"],
        extra=Jsonb(
            {"source_url": form.page_url, "site_name": about["site_name"], "phones": phones_of(site)}
        ),
        timezone=zone,
    )
    if contact["suppressed"]:
        return 0
    return bool(db.fetch_one(conn, "link-contact", campaign_id=ctx.campaign_id, contact_id=contact["id"]))


def _outcome(
    site: Site, reachable: dict[str, uuid.UUID], enrolled: set[str], refused: list[str], linked: int
) -> str:
    """The row's status reason: what was found, linked, left out and why."""
    found = site.found
    outcome = f"{len(found.emails)} emails, {len(found.phones)} phones from {len(site.pages)} pages; {linked} linked"
    if len(found.emails) > MAX_CONTACTS_PER_SITE:
        outcome += f" (the first {MAX_CONTACTS_PER_SITE} addresses only)"
    if others := [e for e in reachable if e not in enrolled]:
        outcome += f"; one conversation per company, not enrolled: {', '.join(others)}"
    if refused:
        outcome += f"; undeliverable: {'; '.join(refused)}"
    if usable := site.usable_forms:
        outcome += f"; {len(usable)} contact form{'s' if len(usable) > 1 else ''}"
    if site.refused_forms:
        outcome += f"; forms not used: {'; '.join(site.refused_forms)}"
    if found.rendered_by_javascript:
        outcome += f"; {RENDERED_BY_JAVASCRIPT}, read from the data it carries"
    return outcome[:2000]

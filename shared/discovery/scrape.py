"""scrape_url: from a prospect's site to contacts, crawled politely and safely."""

from __future__ import annotations

import dataclasses
import uuid

from psycopg.types.json import Jsonb

from shared.core import db, places
from shared.core.config import get_settings
from shared.core.logs import get_logger
from shared.core.work import SCRAPE
from shared.discovery import addresses, companies, extract, fetch, forms
from shared.discovery.rows import ScrapeContext

log = get_logger(__name__)
# A business site lists a few addresses; a page with hundreds is a directory, not a prospect.
MAX_CONTACTS_PER_SITE = 25


def contact_forms(pages: list[fetch.Page]) -> tuple[list[forms.Form], list[str]]:
    """The usable contact forms of the pages, and why the others are never used."""
    usable, refused = [], []
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


def _enroll_form(
    conn, ctx: ScrapeContext, row: dict, form: forms.Form, form_ids: dict, summary: dict, zone: str
) -> int:
    """No address to write to: the business is reached through its contact form (one contact
    per site per organization)."""
    contact = db.fetch_one(
        conn,
        "upsert-form-contact",
        organization_id=ctx.organization_id,
        campaign_id=ctx.campaign_id,
        scrape_id=row["id"],
        form_id=form_ids[form.action],
        site=forms.site_of(form.page_url),
        name=summary["site_name"] or summary["title"],
        extra=Jsonb({"source_url": form.page_url, "site_name": summary["site_name"]}),
        timezone=zone,
    )
    if contact["suppressed"]:
        return 0
    return bool(db.fetch_one(conn, "link-contact", campaign_id=ctx.campaign_id, contact_id=contact["id"]))


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
        pages = [fetch.fetch(url)]
    except fetch.FetchError as exc:
        reason = str(exc)
        with db.transaction() as conn:
            # Worth another try later; anything else (not HTML, too large, 4xx, blocked) is final.
            if isinstance(exc, fetch.Transient):
                return SCRAPE.retry(conn, row, reason)
            SCRAPE.finish(conn, row, "failed", f"failed: {reason}")
        return "failed"

    for link in extract.contact_links(pages[0].text, pages[0].url, get_settings().crawl_extra_pages):
        try:
            if fetch.robots_allows(link):
                pages.append(fetch.fetch(link))
        except fetch.FetchError as exc:
            log.info("extra page skipped", extra={"url": link, "reason": str(exc)})

    found = extract.Contacts()
    found_on: dict[str, str] = {}  # address -> the page it was first found on (GDPR Article 14)
    for page in pages:
        more = extract.extract(page.text, page.url, language, ctx.timezone)
        for email in more.emails:
            found_on.setdefault(email, page.url)
        found.emails += [e for e in more.emails if e not in found.emails]
        found.phones += [p for p in more.phones if p not in found.phones]
        found.names.update(more.names)
        found.region = found.region or more.region
    usable, refused_forms = contact_forms(pages)
    checked, refused = [], []
    for email in sorted(found.emails[:MAX_CONTACTS_PER_SITE]):
        try:
            reason = addresses.refusal(email)
        except addresses.DnsUnavailable as exc:
            with db.transaction() as conn:
                return SCRAPE.retry(conn, row, str(exc))
        if reason:
            refused.append(f"{email}: {reason}")
        else:
            checked.append(email)
    try:
        summary = extract.page_summary(pages[0].text, pages[0].url)
    except Exception:
        # The contacts do not depend on the summary (trafilatura failing on a page, or not
        # importable at all): they are recorded, and drafting writes without the site's text.
        log.warning(
            "page summary failed; contacts kept, summary left empty", exc_info=True, extra={"url": url}
        )
        summary = extract.NO_SUMMARY

    with db.transaction() as conn:
        db.execute(
            conn,
            "save-scrape",
            id=row["id"],
            emails=found.emails,
            phones=found.phones,
            text=summary["text"],
            title=summary["title"],
            description=summary["description"],
            site_name=summary["site_name"],
            pages=len(pages),
        )
        form_ids = {}
        for form in usable:
            form_ids[form.action] = db.fetch_one(
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
        phone = found.phones[0] if found.phones else None
        zone = ctx.timezone if ctx.timezone != "recipient" else None
        reachable: dict[str, uuid.UUID] = {}
        # Sorted, so concurrent scrapes of one organization lock its contacts in the same order.
        for email in checked:
            contact = db.fetch_one(
                conn,
                "upsert-contact",
                organization_id=ctx.organization_id,
                campaign_id=ctx.campaign_id,
                scrape_id=row["id"],
                email=email,
                phone=phone,
                name=found.names.get(email),
                language=language.split("-")[0] if language else None,
                extra=Jsonb(
                    {
                        "source_url": found_on.get(email, url),
                        "page_title": summary["title"],
                        "site_name": summary["site_name"],
                    }
                ),
                timezone=places.contact_zone(phone, email, found.region, zone),
            )
            if not contact["suppressed"]:
                reachable[email] = contact["id"]
        enrolled = companies.choose(conn, ctx.campaign_id, list(reachable), found.names, ctx.per_company)
        linked = 0
        for email in sorted(enrolled):
            linked += bool(
                db.fetch_one(conn, "link-contact", campaign_id=ctx.campaign_id, contact_id=reachable[email])
            )
        if not reachable and usable and ctx.form_channel:
            linked += _enroll_form(
                conn,
                ctx,
                row,
                usable[0],
                form_ids,
                summary,
                places.contact_zone(phone, None, found.region, zone),
            )
        outcome = (
            f"{len(found.emails)} emails, {len(found.phones)} phones from {len(pages)} pages; {linked} linked"
        )
        if len(found.emails) > MAX_CONTACTS_PER_SITE:
            outcome += f" (the first {MAX_CONTACTS_PER_SITE} addresses only)"
        if others := [e for e in reachable if e not in enrolled]:
            outcome += f"; one conversation per company, not enrolled: {', '.join(others)}"
        if refused:
            outcome += f"; undeliverable: {'; '.join(refused)}"
        if usable:
            outcome += f"; {len(usable)} contact form{'s' if len(usable) > 1 else ''}"
        if refused_forms:
            outcome += f"; forms not used: {'; '.join(refused_forms)}"
        SCRAPE.finish(conn, row, "completed", outcome[:2000])
    return "completed"

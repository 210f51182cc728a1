"""Sending through a business's contact form (promise 10 in docs/DESIGN.md): the form fetched again just before
(hidden fields such as nonces change), filled only where it is understood, posted with the safe
fetcher's rules, and its answer read. Never behind a CAPTCHA or a no-solicitation notice: the
fresh page is checked again with the rules that found the form."""

from __future__ import annotations

import re
from dataclasses import dataclass

from shared.core.text import one_line
from shared.discovery import fetch, forms
from shared.inbound import tokens
from shared.sending import mailer, message
from shared.sending.rows import SendContext

CONFIRMED = re.compile(
    r"thank you|thanks for|gracias|merci|danke|obrigad|grazie|has been sent|was sent|message sent|mensaje enviado"
    r"|enviado correctamente|received your|hemos recibido|nous avons bien reçu|wpcf7-mail-sent-ok",
    re.I,
)
REFUSED = re.compile(
    r"wpcf7-not-valid|is required|field is required|required field|obligatori|erforderlich|est requis"
    r"|invalid (email|e-mail|address)|not valid|please (fill|enter|correct)|has an error|have an error"
    r"|fields? (has|have) an error",
    re.I,
)
OPT_OUT = {
    "en": "If you would rather not hear from us again: {url}",
    "es": "Si prefiere que no volvamos a escribirle: {url}",
}


@dataclass(frozen=True)
class Submission:
    outcome: mailer.Outcome
    evidence: dict


def text(ctx: SendContext) -> str:
    """The message as the form receives it: the reviewed body, who writes and where to answer,
    and the opt-out link."""
    sender = message.sender_address(ctx)
    name = sender.display_name or ctx.org_name
    language = "es" if (ctx.language_preference or ctx.default_language or "")[:2] == "es" else "en"
    opt_out = OPT_OUT[language].format(url=tokens.unsubscribe_url(ctx.id))
    body = (ctx.body or "").rstrip()
    return f"{body}\n\n{name}, {ctx.org_name}\n{sender.addr_spec}\n\n{opt_out}"


def fill(form: forms.Form, ctx: SendContext, body: str) -> tuple[list[tuple[str, str]], str | None]:
    """The fields to post, or why the form cannot be filled honestly."""
    sender = message.sender_address(ctx)
    values = {
        "name": sender.display_name or ctx.org_name,
        "email": sender.addr_spec,
        "subject": ctx.subject or "",
        "message": body,
    }
    out = []
    for field in form.fields:
        if field.kind == "hidden":
            out.append((field.name, field.value))
        elif field.role in values:
            value = values[field.role]
            if field.maxlength and len(value) > field.maxlength:
                return (
                    [],
                    f"the {field.role} does not fit its field ({len(value)} of {field.maxlength} characters)",
                )
            out.append((field.name, value))
        elif field.required:
            return [], f"a required field cannot be filled: {field.label or field.name}"
    return out, None


def submit(ctx: SendContext) -> Submission:
    """One form message, posted once, and only to the approved site: the page fetched, each
    redirect on the way to it and the form's action are all on the registered domain of the
    contact's form_site, and the form is the approved one (its action and its fields). Only
    errors before the post are worth a retry; a refusal is final at once; once the data went
    out, a lost answer is "outcome unknown", never posted again."""
    site = ctx.form_site or ""
    page_url, action = ctx.form_page_url, ctx.form_action
    if page_url is None or action is None:  # the contact's approved form was removed since
        return Submission(mailer.Permanent("the contact has no approved contact form"), {})

    def stay_on_site(url: str) -> None:
        if not forms.on_site(url, site):
            raise fetch.Blocked(f"{url[:200]} is not on the approved site {site}")

    try:
        page = fetch.fetch(page_url, hop_check=stay_on_site)
    except fetch.Blocked as exc:
        return Submission(mailer.Permanent(f"the form's page is not allowed: {exc}"), {})
    except fetch.FetchError as exc:
        return Submission(mailer.Temporary(f"the form's page could not be fetched: {exc}"), {})
    form = forms.approved(forms.find(page.text, page.url), action, ctx.form_roles)
    if form is None:
        return Submission(
            mailer.Permanent("the approved contact form is no longer on its page"), {"page": page.url}
        )
    if form.refusal:
        return Submission(mailer.Permanent(f"not submitted: {form.refusal}"), {"page": page.url})
    if not forms.on_site(form.action, site):
        return Submission(
            mailer.Permanent(f"not submitted: the form posts outside the approved site {site}"),
            {"page": page.url},
        )
    try:
        if not fetch.robots_allows(form.action):
            return Submission(mailer.Permanent("not submitted: robots.txt disallows the form's action"), {})
    except fetch.Blocked as exc:  # an address that will never be allowed: no retry
        return Submission(mailer.Permanent(f"not submitted: the form's action is not allowed: {exc}"), {})
    except fetch.FetchError as exc:
        return Submission(mailer.Temporary(f"robots.txt could not be read: {exc}"), {})
    fields, problem = fill(form, ctx, text(ctx))
    if problem:
        return Submission(mailer.Permanent(f"not submitted: {problem}"), {"page": page.url})
    try:
        answer = fetch.fetch(
            form.action,
            accept=(),
            form=fetch.Form(fields, multipart=form.enctype == "multipart/form-data"),
            hop_check=stay_on_site,
        )
    except fetch.AnswerLost as exc:
        return Submission(mailer.Unknown(str(exc)), {"action": form.action})
    except fetch.Blocked as exc:
        return Submission(mailer.Permanent(f"the form's action is not allowed: {exc}"), {})
    except fetch.FetchError as exc:
        return Submission(mailer.Temporary(f"the form could not be posted: {exc}"), {})
    return read_answer(answer)


def read_answer(answer: fetch.Page) -> Submission:
    evidence = {"status": answer.status, "final_url": answer.url}
    if 300 <= answer.status < 400:
        # Post, then redirect (to a thank-you page, most often): received, unless it names an error.
        if "error" in answer.url.lower():
            return Submission(mailer.Permanent(f"redirected to an error page: {answer.url}"[:300]), evidence)
        return Submission(mailer.Accepted(f"redirected to {answer.url}"), evidence)
    if answer.status >= 500:
        return Submission(mailer.Unknown(f"the site answered {answer.status}"), evidence)
    if answer.status >= 400:
        return Submission(mailer.Permanent(f"the site answered {answer.status}"), evidence)
    visible = one_line(answer.text)
    for pattern, outcome in ((REFUSED, mailer.Permanent), (CONFIRMED, mailer.Accepted)):
        match = pattern.search(answer.text)
        if match:
            around = _around(visible, match.group()) or match.group()
            evidence["text"] = around
            return Submission(outcome(f"the site said: {around}"[:300]), evidence)
    return Submission(mailer.Unknown("the answer shows neither a confirmation nor an error"), evidence)


def _around(visible: str, found: str) -> str:
    at = visible.lower().find(found.lower())
    return visible[max(at - 120, 0) : at + 180].strip() if at >= 0 else ""

"""draft_message: a personal multi-step email sequence for one campaign contact, written by an
LLM from the prospect's own site (or by the template drafter), checked in code, and scheduled
in the campaign's sending window."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from shared.campaigns import settings as campaign_settings
from shared.core import db, places
from shared.core.logs import get_logger
from shared.core.text import one_line, plain_text
from shared.core.work import DRAFT
from shared.drafting import llm
from shared.drafting.rows import DraftContext
from shared.sending import window

log = get_logger(__name__)
SUBJECT_MAX = 80
DEFAULT_WORD_LIMIT = 150
SITE_TEXT_MAX = 3000
PAUSED_RETRY_SECONDS = 600
PLACEHOLDER = re.compile(
    r"\{\{[^}]*\}\}|\{[A-Za-z_]+\}|\[[A-Z][A-Za-z _]{1,30}\]|<[a-z_ ]{2,30}>|\bXXX\b|\bTBD\b"
)
FOOTER = re.compile(r"unsubscribe|opt[ -]?out|darse de baja|darte de baja|dejar de recibir", re.IGNORECASE)


class Email(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subject: Annotated[str, BeforeValidator(one_line)] = Field(min_length=1)
    body: Annotated[str, BeforeValidator(plain_text)] = Field(min_length=1)


class Sequence(BaseModel):
    model_config = ConfigDict(extra="forbid")

    emails: list[Email] = Field(min_length=1)


SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["emails"],
    "properties": {
        "emails": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["subject", "body"],
                "properties": {"subject": {"type": "string"}, "body": {"type": "string"}},
            },
        }
    },
}


@dataclass
class Drafted:
    emails: list[Email]
    drafter: str
    prompt_tokens: int = 0
    completion_tokens: int = 0


class DraftRejected(Exception):
    pass


def problems(sequence: Sequence, steps: int, word_limit: int) -> list[str]:
    """What the code refuses, whatever the model says."""
    found = []
    if len(sequence.emails) != steps:
        found.append(f"write exactly {steps} emails, not {len(sequence.emails)}")
    for i, email in enumerate(sequence.emails, 1):
        if len(email.subject) > SUBJECT_MAX:
            found.append(f"email {i}: the subject is over {SUBJECT_MAX} characters")
        words = len(email.body.split())
        if words > word_limit:
            found.append(f"email {i}: the body has {words} words, over the limit of {word_limit}")
        for text in (email.subject, email.body):
            match = PLACEHOLDER.search(text)
            if match:
                found.append(f"email {i}: unfilled placeholder {match.group()!r}")
        if FOOTER.search(email.body):
            found.append(f"email {i}: no unsubscribe or opt-out text (the sender adds the footer)")
    return found


def _language_name(code: str) -> str:
    return {
        "en": "English",
        "es": "Spanish",
        "de": "German",
        "fr": "French",
        "it": "Italian",
        "pt": "Portuguese",
        "nl": "Dutch",
    }.get(code[:2], code)


REFERRED = {
    "en": "{referrer} suggested I get in touch with you.",
    "es": "{referrer} me sugirió que me pusiera en contacto con usted.",
    "de": "{referrer} hat mir empfohlen, mich an Sie zu wenden.",
    "fr": "{referrer} m'a suggéré de vous contacter.",
}


def referrer(ctx: DraftContext) -> str | None:
    """Who referred this contact to us in a reply (shared/inbound/next_step.py), if anyone."""
    extra = ctx.extra_data or {}
    referral = extra.get("referral") if isinstance(extra, dict) else None
    if not isinstance(referral, dict):
        return None
    return str(one_line(str(referral.get("by_name") or referral.get("by") or "")))[:120] or None


def prompt(ctx: DraftContext, steps: list[int], word_limit: int, language: str) -> list[dict]:
    site = (ctx.site_text or "")[:SITE_TEXT_MAX]
    facts = {
        "business_site": ctx.website_url,
        "site_name": ctx.site_name,
        "page_title": ctx.page_title,
        "page_description": ctx.page_description,
        "contact_name": ctx.contact_name,
    }
    system = (
        "You write short, honest, personal cold emails for a small business. "
        f"Write in {_language_name(language)}. Tone: {ctx.tone or 'friendly and professional'}. "
        f"Each body at most {word_limit} words; each subject at most {SUBJECT_MAX} characters. "
        "Only state facts found in the material given about the prospect; never invent numbers, names, "
        "awards, mutual contacts or past conversations. No placeholders such as {{name}} or [Company]: "
        "if a detail is unknown, write around it. No unsubscribe or opt-out text and no signature block "
        "with an address: the sender adds the footer. "
        f'Return JSON: {{"emails": [{{"subject": ..., "body": ...}}]}} with exactly {len(steps)} emails; '
        "the first introduces, each later one is a brief follow-up written as a reply in the same thread."
    )
    if referrer(ctx):
        system += f" The first email says that {referrer(ctx)} suggested writing to this person."
    user = (
        f"Sender: {ctx.org_name}.\n"
        + (f"The offer's public name: {ctx.public_name}.\n" if ctx.public_name else "")
        + f"What the campaign wants: {ctx.instructions or 'introduce our offer and ask for a short call'}.\n"
        f"Days after the first email for each message: {steps}.\n"
        f"Prospect facts: {json.dumps({k: v for k, v in facts.items() if v}, ensure_ascii=False)}\n"
        f"Text of the prospect's website (may be incomplete):\n<<<\n{site}\n>>>"
    )
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def draft_with_llm(
    client: llm.ChatClient, ctx: DraftContext, steps: list[int], word_limit: int, language: str
) -> Drafted:
    messages = prompt(ctx, steps, word_limit, language)
    used = [0, 0]
    for attempt in (1, 2):  # one repair attempt
        answer = client.complete(messages, SCHEMA)
        used[0] += answer.prompt_tokens
        used[1] += answer.completion_tokens
        try:
            sequence = Sequence.model_validate_json(_strip_fences(answer.content))
            issues = problems(sequence, len(steps), word_limit)
        except ValidationError as exc:
            sequence, issues = None, [f"the answer is not the JSON asked for: {exc.errors()[0]['msg']}"]
        if sequence is not None and not issues:
            return Drafted(sequence.emails, f"llm:{client.model}", *used)
        if attempt == 1:
            messages = [
                *messages,
                {"role": "assistant", "content": answer.content[:8000]},
                {
                    "role": "user",
                    "content": "Fix these problems and answer with the corrected JSON only: "
                    + "; ".join(issues),
                },
            ]
    raise DraftRejected("the draft failed its checks after one repair: " + "; ".join(issues)[:400])


def _strip_fences(text: str) -> str:
    text = text.strip()
    if text.startswith("```"):
        text = re.sub(r"^```[a-zA-Z]*\s*|\s*```$", "", text)
    return text


TEMPLATES = {
    "en": [
        (
            "A question for {business}",
            "Hi {greeting},\n\nI came across {business}{about} and wanted to reach out. "
            "{instructions}\n\nWould you be open to a short call next week?\n\nBest regards,\n{sender}",
        ),
        (
            "",
            "Hi {greeting},\n\nJust following up on my note{about_campaign}. Happy to send more details "
            "if that is easier.\n\nBest,\n{sender}",
        ),
        (
            "",
            "Hi {greeting},\n\nI will leave it here so I do not crowd your inbox. If {topic} is of interest "
            "later, a reply to this email reaches me directly.\n\nAll the best,\n{sender}",
        ),
    ],
    "es": [
        (
            "Una pregunta para {business}",
            "Hola {greeting}:\n\nHe visto {business}{about} y quería escribirle. "
            "{instructions}\n\n¿Le vendría bien una llamada breve la próxima semana?\n\nUn saludo,\n{sender}",
        ),
        (
            "",
            "Hola {greeting}:\n\nSolo quería retomar mi mensaje{about_campaign}. Si lo prefiere, le envío "
            "más información por escrito.\n\nUn saludo,\n{sender}",
        ),
        (
            "",
            "Hola {greeting}:\n\nNo quiero llenar su bandeja de entrada, así que lo dejo aquí. Si más adelante "
            "le interesa {topic}, basta con responder a este correo.\n\nUn cordial saludo,\n{sender}",
        ),
    ],
}


def draft_with_template(ctx: DraftContext, steps: list[int], word_limit: int, language: str) -> Drafted:
    """Deterministic emails from the campaign's and the contact's details, under the same checks."""
    texts = TEMPLATES.get(language[:2], TEMPLATES["en"])
    business = ctx.site_name or ctx.page_title or (ctx.website_url or "your business")
    business = business.split("|")[0].strip()[:60]
    first_name = (ctx.contact_name or "").split(" ")[0]
    values = {
        "business": business,
        "greeting": first_name or ("equipo de " + business if language[:2] == "es" else "there"),
        "about": "",
        "instructions": (ctx.instructions or "").strip()[:400],
        "sender": ctx.org_name,
    }
    # The campaign's public name, never its internal one: a team's "Florida dentists, cheap list"
    # must not reach a prospect.
    public = ctx.public_name
    spanish = language[:2] == "es"
    values["about_campaign"] = (f" sobre {public}" if spanish else f" about {public}") if public else ""
    values["topic"] = public or ("el tema" if spanish else "this")
    emails: list[Email] = []
    for i, _ in enumerate(steps):
        subject, body = texts[min(i, len(texts) - 1)]
        body = body.format(**values).replace("\n\n\n\n", "\n\n")
        if i == 0 and referrer(ctx):
            greeting, _, rest = body.partition("\n\n")
            said = REFERRED.get(language[:2], REFERRED["en"]).format(referrer=referrer(ctx))
            body = f"{greeting}\n\n{said} {rest}"
        words = body.split()
        if len(words) > word_limit:
            body = " ".join(words[:word_limit])
        # Follow-ups go out as "Re: <first subject>" in the first message's thread.
        subject = subject.format(**values) or emails[0].subject
        emails.append(Email(subject=subject[:SUBJECT_MAX], body=body))
    sequence = Sequence(emails=emails)
    issues = problems(sequence, len(steps), word_limit)
    if issues:
        raise DraftRejected("the template draft failed its checks: " + "; ".join(issues))
    return Drafted(emails, "template")


# What the submission adds below a form message: who writes, where to answer, how to object.
FORM_FOOTER_ROOM = 400


def fit_form(email: Email, ctx: DraftContext) -> Email:
    """The message within the form's message field (its maxlength, leaving room for the footer
    added when it is submitted), cut at a word; refused when even a short message cannot fit."""
    field = (ctx.form_roles or {}).get("message")
    maxlength = next((f.get("maxlength") for f in ctx.form_fields or [] if f.get("name") == field), None)
    if not maxlength:
        return email
    room = maxlength - FORM_FOOTER_ROOM
    if room < 200:
        raise DraftRejected(
            f"the form's message field takes {maxlength} characters, too few for a message and its footer"
        )
    body = email.body
    while len(body) > room:
        body = body.rsplit(" ", 1)[0]
    return Email(subject=email.subject, body=body)


def draft(row: dict) -> str:
    """One claimed campaign contact: draft, check, schedule and store its sequence."""
    key = DRAFT.key_of(row)
    with db.transaction() as conn:
        ctx = db.fetch_row(conn, "get-draft-context", DraftContext, **key)
    if ctx.campaign_status == "paused":
        with db.transaction() as conn:
            db.execute(conn, "postpone-draft", delay=PAUSED_RETRY_SECONDS, **DRAFT.claim_of(row))
        return "postponed"
    if ctx.campaign_status == "completed":
        with db.transaction() as conn:
            DRAFT.finish(conn, row, "skipped", "skipped: the campaign is completed")
        return "skipped"
    if ctx.existing_steps:
        with db.transaction() as conn:
            DRAFT.finish(conn, row, "drafted", "the sequence already exists")
        return "drafted"

    try:
        settings = campaign_settings.parse(ctx.ai_settings)
    except ValidationError:
        settings = campaign_settings.AiSettings()
    by_form = ctx.email is None
    # A form takes one message: no follow-ups through a form.
    steps = [0] if by_form else [s.delay_days for s in settings.steps]
    word_limit = ctx.word_limit or DEFAULT_WORD_LIMIT
    language = (ctx.language_preference or ctx.default_language or "en")[:2]
    client = llm.from_settings()
    try:
        drafted = (
            draft_with_llm(client, ctx, steps, word_limit, language)
            if client
            else draft_with_template(ctx, steps, word_limit, language)
        )
    except (llm.LlmError, DraftRejected) as exc:
        with db.transaction() as conn:
            if isinstance(exc, llm.Unavailable):
                return DRAFT.retry(conn, row, str(exc))
            DRAFT.finish(conn, row, "failed", f"failed: {exc}"[:500])
        return "failed"

    if by_form:
        try:
            drafted.emails[0] = fit_form(drafted.emails[0], ctx)
        except DraftRejected as exc:
            with db.transaction() as conn:
                DRAFT.finish(conn, row, "failed", f"failed: {exc}"[:500])
            return "failed"
    zone = ctx.contact_timezone or places.contact_zone(ctx.phone, ctx.email, None, None)
    times = window.sequence_times(datetime.now(UTC), steps, settings.sending_window, zone)
    # A form message always waits for a person's approval.
    # So does the sequence to a person someone referred us to in a reply.
    status = "draft" if settings.review_before_send or by_form or referrer(ctx) else "scheduled"
    with db.transaction() as conn:
        for order, (email, when) in enumerate(zip(drafted.emails, times, strict=True)):
            db.fetch_one(
                conn,
                "insert-flow-step",
                step=order,
                status=status,
                subject=email.subject,
                body=email.body,
                when=when,
                flow_type="form_submission" if by_form else "email",
                **key,
            )
        db.execute(
            conn,
            "record-draft-usage",
            drafter=drafted.drafter,
            prompt_tokens=drafted.prompt_tokens,
            completion_tokens=drafted.completion_tokens,
            **key,
        )
        DRAFT.finish(conn, row, "drafted", f"{len(drafted.emails)} emails by {drafted.drafter}")
    return "drafted"

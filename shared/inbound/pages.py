"""The unsubscribe page and its confirmations: server-rendered HTML, no JavaScript, readable on
a phone, in English or Spanish."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

# {campaign} is the campaign's public name (ai_settings.public_name) where it has one; the
# internal name a team gives a campaign never reaches a recipient.
TEXT = {
    "en": {
        "title": "Email preferences",
        "intro": "Emails from <b>{org}</b> to <b>{email}</b>.",
        "intro_named": "Emails from <b>{org}</b> to <b>{email}</b>, as part of “{campaign}”.",
        "campaign": "Stop emails about this campaign",
        "campaign_named": "Stop emails about “{campaign}”",
        "all": "Stop every email from {org}",
        "confirm": "Confirm",
        "done_campaign": "Done: you will get no more emails about this campaign from {org}.",
        "done_campaign_named": "Done: you will get no more emails about “{campaign}” from {org}.",
        "done_all": "Done: you will get no more emails from {org}.",
        "already": "This was already recorded; nothing else changed.",
        "invalid": "This unsubscribe link is not valid. If you copied it, please check that it is complete.",
        "choose": "Please choose one of the options.",
    },
    "es": {
        "title": "Preferencias de correo",
        "intro": "Correos de <b>{org}</b> a <b>{email}</b>.",
        "intro_named": "Correos de <b>{org}</b> a <b>{email}</b>, dentro de «{campaign}».",
        "campaign": "No recibir más correos de esta campaña",
        "campaign_named": "No recibir más correos sobre «{campaign}»",
        "all": "No recibir ningún correo de {org}",
        "confirm": "Confirmar",
        "done_campaign": "Listo: no recibirá más correos de esta campaña de {org}.",
        "done_campaign_named": "Listo: no recibirá más correos sobre «{campaign}» de {org}.",
        "done_all": "Listo: no recibirá más correos de {org}.",
        "already": "Ya constaba; no ha cambiado nada más.",
        "invalid": "Este enlace para darse de baja no es válido. Si lo copió, compruebe que esté completo.",
        "choose": "Elija una de las opciones.",
    },
}

STYLE = (
    "body{font-family:system-ui,-apple-system,sans-serif;max-width:34rem;margin:2rem auto;padding:0 1rem;"
    "line-height:1.5;color:#222}h1{font-size:1.4rem}label{display:block;padding:.8rem;margin:.5rem 0;"
    "border:1px solid #ccc;border-radius:.5rem}button{font-size:1rem;padding:.7rem 1.4rem;border:0;"
    "border-radius:.5rem;background:#1a56db;color:#fff}.note{color:#555}"
)


def language_of(*candidates: str | None, supported: Mapping[str, object] = TEXT) -> str:
    """The first candidate language we have texts for (by its primary subtag), else English."""
    for candidate in candidates:
        if candidate and candidate[:2].lower() in supported:
            return candidate[:2].lower()
    return "en"


def _document(lang: str, body: str) -> str:
    t = TEXT[lang]
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="robots" content="noindex">'
        f"<title>{escape(t['title'])}</title><style>{STYLE}</style></head>"
        f"<body><h1>{escape(t['title'])}</h1>{body}</body></html>"
    )


def _named(t: dict, key: str, campaign: str | None) -> str:
    return t[f"{key}_named"] if campaign else t[key]


def choice_page(
    lang: str, token: str, org: str, campaign: str | None, masked_email: str, error: str = ""
) -> str:
    t = TEXT[lang]
    values = {"org": escape(org), "campaign": escape(campaign or ""), "email": escape(masked_email)}
    warning = f'<p class="note" role="alert">{escape(t["choose"])}</p>' if error else ""
    body = (
        f"<p>{_named(t, 'intro', campaign).format(**values)}</p>{warning}"
        f'<form method="post" action="?token={escape(token)}">'
        f'<label><input type="radio" name="scope" value="campaign" required> {_named(t, "campaign", campaign).format(**values)}</label>'
        f'<label><input type="radio" name="scope" value="all"> {t["all"].format(**values)}</label>'
        f'<p><button type="submit">{escape(t["confirm"])}</button></p></form>'
    )
    return _document(lang, body)


def done_page(lang: str, scope: str, org: str, campaign: str | None, changed: bool) -> str:
    t = TEXT[lang]
    values = {"org": escape(org), "campaign": escape(campaign or "")}
    message = (_named(t, "done_campaign", campaign) if scope == "campaign" else t["done_all"]).format(
        **values
    )
    extra = "" if changed else f'<p class="note">{escape(t["already"])}</p>'
    return _document(lang, f'<p id="confirmation">{message}</p>{extra}')


def invalid_page(lang: str = "en") -> str:
    return _document(lang, f"<p>{escape(TEXT[lang]['invalid'])}</p>")

"""Contact forms on a prospect's pages (promise 10 in docs/DESIGN.md): which forms are contact forms,
what each field takes, and which must never be used.

A contact form is a plain HTML form with a message box and a name or email field; search,
login, newsletter, checkout and comment forms are not. A contact form is refused, with the
reason, when it has a CAPTCHA, posts to another site, needs JavaScript to submit, requires a
file, or sits on a page that says it accepts no sales or marketing messages. robots.txt is
checked by the caller, which fetches.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from lxml import etree
from lxml import html as lxml_html
from lxml.html import HtmlElement  # no type information: Any to mypy
from tld import get_fld

MAX_FIELDS = 40
MAX_OPTIONS = 50
MAX_FORMS = 10

CAPTCHA = re.compile(
    r"captcha|g-recaptcha|h-captcha|cf-turnstile|turnstile|friendlycaptcha|frc-captcha", re.I
)
CAPTCHA_SCRIPTS = re.compile(
    r"google\.com/recaptcha|recaptcha/api|hcaptcha\.com|challenges\.cloudflare\.com/turnstile|friendlycaptcha",
    re.I,
)
# "No sales or marketing messages", in English, Spanish, German, French, Portuguese and Italian.
NO_SOLICITATION = re.compile(
    r"no (sales|marketing|solicitation|soliciting|advertising)|not (accept|want|wish to receive) (any )?"
    r"(sales|marketing|unsolicited|commercial)|(sales|marketing|vendor) (inquiries|enquiries|emails|messages|pitches)"
    r" (are )?not (accepted|welcome)|solicitors? (will be|are) (ignored|reported)|no solicitations?"
    r"|no (aceptamos|admitimos) (ofertas|publicidad|mensajes comerciales|propuestas comerciales)"
    r"|abstenerse (comerciales|empresas de publicidad)|no se admiten (ofertas|mensajes) comerciales"
    r"|keine werbung|keine (verkaufs|werbe)anfragen|werbeanfragen (sind )?unerwünscht|keine akquise"
    r"|pas de (démarchage|prospection|sollicitation)|démarchage (commercial )?(interdit|refusé)"
    r"|não aceitamos (publicidade|propostas comerciais)|sem (publicidade|spam comercial)"
    r"|niente pubblicità|no (pubblicità|offerte commerciali)|non accettiamo (proposte|offerte) commerciali",
    re.I,
)
ROLES = {
    "email": re.compile(r"e-?mail|correo|courriel|mail", re.I),
    "phone": re.compile(r"phone|tel|fono|móvil|movil|handy|portable|celular|telefone", re.I),
    "subject": re.compile(r"subject|asunto|betreff|sujet|objet|assunto|oggetto|topic|motivo", re.I),
    "name": re.compile(r"name|nombre|nom\b|nome|vorname|nachname|apellido|full.?name", re.I),
    "message": re.compile(
        r"message|mensaje|nachricht|comment|consulta|mensagem|messaggio|inquiry|enquiry|text", re.I
    ),
}
# Fields that make a form a login or a checkout, not a contact form.
NOT_CONTACT = re.compile(r"password|passwd|contraseña|passwort|card.?number|cc-number|\bcvv\b|\bcvc\b", re.I)


@dataclass
class Field:
    name: str
    kind: str  # the input type, "textarea" or "select"
    label: str = ""
    required: bool = False
    maxlength: int | None = None
    value: str = ""  # hidden fields keep theirs
    options: list[str] = field(default_factory=list)
    role: str | None = None  # name, email, phone, subject or message


@dataclass
class Form:
    page_url: str
    action: str
    method: str
    enctype: str
    fields: list[Field]
    refusal: str | None = None  # why it must never be used; None: usable

    @property
    def roles(self) -> dict[str, str]:
        return {f.role: f.name for f in self.fields if f.role}


def site_of(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower()
    return get_fld(host, fix_protocol=True, fail_silently=True) or host


def on_site(url: str, site: str) -> bool:
    """The URL is http(s) and on the registered domain `site` (a subdomain of it included)."""
    return urlsplit(url).scheme in ("http", "https") and bool(site) and site_of(url) == site.lower()


def approved(found: list[Form], action: str, roles: dict[str, str] | None) -> Form | None:
    """The form a person approved, among a page's forms: the same action, and the fields that
    took the name, email, subject and message then still taking them. Never another form of
    the page, whatever it looks like."""
    for form in found:
        if form.action == action and (roles is None or roles.items() <= form.roles.items()):
            return form
    return None


def find(html: str, page_url: str) -> list[Form]:
    """The contact forms of a page, usable or refused; other forms are left out."""
    try:
        document = lxml_html.fromstring(html)
    except (etree.ParserError, ValueError):
        return []
    page_text = " ".join(document.text_content().split())[:200_000]
    page_refusal = (
        "the site says it accepts no sales or marketing messages"
        if NO_SOLICITATION.search(page_text)
        else None
    )
    page_captcha = any(CAPTCHA_SCRIPTS.search(s.get("src") or "") for s in document.iter("script"))
    found: list[Form] = []
    for element in document.iter("form"):
        if len(found) >= MAX_FORMS:
            break
        form = _read(element, page_url)
        if form is None:
            continue
        form.refusal = (
            form.refusal or page_refusal or ("a CAPTCHA protects the page" if page_captcha else None)
        )
        found.append(form)
    return found


def _read(element: HtmlElement, page_url: str) -> Form | None:
    controls = [
        c
        for c in element.iter("input", "textarea", "select", "button")
        if c.get("name") or c.tag == "textarea"
    ]
    if len(controls) > MAX_FIELDS:
        return Form(page_url, page_url, "post", "", [], refusal=f"more than {MAX_FIELDS} fields")
    fields = [
        _field(c, element)
        for c in controls
        if c.tag != "button" and (c.get("type") or "").lower() not in ("submit", "image", "reset", "button")
    ]
    if not any(f.kind == "textarea" for f in fields) or not any(f.role in ("email", "name") for f in fields):
        return None  # not a contact form: no message box, or no name or email field
    if any(f.kind == "password" or (f.kind != "hidden" and NOT_CONTACT.search(f.name)) for f in fields):
        return None  # a login or a checkout
    if (element.get("id") or "") == "commentform" or "wp-comments-post" in (element.get("action") or ""):
        return None  # a blog's comment form
    method = (element.get("method") or "get").lower()
    enctype = (element.get("enctype") or "application/x-www-form-urlencoded").lower()
    raw_action = (element.get("action") or "").strip()
    action = (
        urljoin(page_url, raw_action).split("#")[0]
        if not raw_action.lower().startswith("javascript:")
        else ""
    )
    form = Form(page_url, action, method, enctype, fields)
    form.refusal = _refusal(element, form, raw_action, page_url)
    return form


def _refusal(element: HtmlElement, form: Form, raw_action: str, page_url: str) -> str | None:
    markup = etree.tostring(element, encoding="unicode", method="html")[:200_000]
    if CAPTCHA.search(markup):
        return "a CAPTCHA protects it"
    if raw_action.lower().startswith("javascript:") or (element.get("onsubmit") and not raw_action):
        return "it needs JavaScript to submit"
    if not _has_submit(element):
        return "it has no submit button (JavaScript submits it)"
    if form.method != "post":
        return "it does not post (a contact form sends with POST)"
    if urlsplit(form.action).scheme not in ("http", "https") or site_of(form.action) != site_of(page_url):
        return "it posts to another site"
    if any(f.kind == "file" and f.required for f in form.fields):
        return "it requires a file upload"
    if form.roles.get("message") is None:
        return "no field takes the message"
    return None


def _has_submit(element: HtmlElement) -> bool:
    for control in element.iter("button", "input"):
        kind = (control.get("type") or ("submit" if control.tag == "button" else "text")).lower()
        if kind in ("submit", "image"):
            return True
    return False


def _field(control: HtmlElement, form_element: HtmlElement) -> Field:
    kind = (
        "textarea"
        if control.tag == "textarea"
        else "select"
        if control.tag == "select"
        else (control.get("type") or "text").lower()
    )
    name = control.get("name") or ""
    label = _label(control, form_element)
    maxlength = control.get("maxlength")
    found = Field(
        name=name[:200],
        kind=kind,
        label=label[:200],
        required=control.get("required") is not None
        or control.get("aria-required") == "true"
        or "required" in (control.get("class") or ""),
        maxlength=int(maxlength) if maxlength and maxlength.isdigit() else None,
        value=(control.get("value") or "")[:2000] if kind == "hidden" else "",
        options=[(o.get("value") or o.text or "")[:200] for o in control.iter("option")][:MAX_OPTIONS]
        if kind == "select"
        else [],
    )
    found.role = _role(found, control)
    return found


def _label(control: HtmlElement, form_element: HtmlElement) -> str:
    control_id = control.get("id")
    if control_id:
        for label in form_element.iter("label"):
            if label.get("for") == control_id:
                return " ".join(label.text_content().split())
    parent = control.getparent()
    while parent is not None and parent is not form_element:
        if parent.tag == "label":
            return " ".join(parent.text_content().split())
        parent = parent.getparent()
    return control.get("placeholder") or control.get("aria-label") or ""


def _role(found: Field, control: HtmlElement) -> str | None:
    if found.kind == "textarea":
        return "message"
    if found.kind in ("hidden", "checkbox", "radio", "file", "password", "select"):
        return None
    if found.kind == "email":
        return "email"
    if found.kind == "tel":
        return "phone"
    clues = f"{found.name} {found.label} {control.get('autocomplete') or ''} {control.get('id') or ''}"
    for role in ("email", "phone", "subject", "name"):
        if ROLES[role].search(clues):
            return role
    return None

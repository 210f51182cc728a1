"""Email addresses in a page: mailto links, visible text, Cloudflare's encodings, [at]/[dot]
obfuscations, and what makes a candidate a real address rather than a placeholder, an image
name or a tracker's id.

Every pattern is linear in the page size: a match can only start where the preceding
character could not belong to it (lookbehind), and quantifiers are possessive, so a run of
'@' or dots is scanned once. Where it can, a pattern begins with a plain character set (the
lookbehind comes after it, and case is spelled out rather than ignored): Python's regex engine
then skips ahead to the next position that could start a match in C instead of trying a match
at every position, which made the scan of a 5 MB page about twice as fast.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

from email_validator import EmailNotValidError, validate_email
from tld import Result, get_tld

LOCAL = r"A-Za-z0-9._%+\-"
# A domain label is alphanumeric runs joined by hyphens, possessive so it never backtracks
# into itself; the labels may give back at most eight steps, so "write to a@b.com." still
# finds a@b.com before the sentence's full stop.
LABEL = r"[A-Za-z0-9]++(?:-++[A-Za-z0-9]++){0,20}+"
EMAIL = re.compile(
    rf"(?<![{LOCAL}])[{LOCAL}]{{1,64}}+@(?:{LABEL}\.){{1,8}}[A-Za-z]{{2,24}}+(?![A-Za-z0-9]|-[A-Za-z0-9])"
)
MAILTO = re.compile(r"""[Mm][Aa][Ii][Ll][Tt][Oo]:([^"'<>\s?]{3,320})""")
CFEMAIL = re.compile(
    r"""data-cfemail=["']([0-9a-fA-F]{4,400})["']|/cdn-cgi/l/email-protection#([0-9a-fA-F]{4,400})"""
)
# "name [at] domain [dot] com", "name (at) domain", "name <at> domain <dot> com", Spanish
# "(arroba)" and "(punto)", "name at domain [dot] com", read in the lower-cased text with its white
# space collapsed to single spaces. A bracketed word may have a space before it, which goes too;
# the match starts on the space or the bracket, whichever comes first (BRACKETED), so that the
# pattern begins with a character set.
BRACKETED = r"[ \[({<](?:(?<= )[\[({<]|(?<=[\[({<]))"
AT = re.compile(BRACKETED + r" ?(?:at|arroba) ?[\])}>] ?")
AT_WORD = re.compile(r" at (?=[a-z0-9-]{1,63} ?[\[(<] ?dot ?[\])>]) ?")
DOT = re.compile(BRACKETED + r" ?(?:dot|punto) ?[\])}>] ?")
# All in plain words, "sam at greenleaf-landscaping dot com": taken only where the words before it
# speak of writing or mail, and only for a top-level domain that exists (clean_email).
PLAIN = re.compile(
    r" at ([a-z0-9][a-z0-9-]{0,62}(?: dot [a-z0-9][a-z0-9-]{0,62}){0,3}) dot ([a-z]{2,24})(?![a-z0-9])"
)
MAIL_CUE = re.compile(r"e-?mail|mail|write|contact|reach|correo|escr[ií]b|kontakt|courriel")

PLACEHOLDER_DOMAINS = {
    "example.com",
    "example.org",
    "example.net",
    "domain.com",
    "yourdomain.com",
    "email.com",
    "company.com",
    "yourcompany.com",
    "mysite.com",
    "website.com",
    "sentry.io",
    "wixpress.com",
    "sentry-next.wixpress.com",
    "sentry.wixpress.com",
    "localhost",
}
PLACEHOLDER_LOCALS = {
    "you",
    "your",
    "yourname",
    "your.name",
    "name",
    "email",
    "user",
    "username",
    "firstname",
    "first.last",
    "john.doe",
    "jane.doe",
    "johndoe",
    "test",
    "example",
    "someone",
}
TRACKING_DOMAIN_PARTS = ("sentry", "wixpress", "mixpanel", "segment.io", "intercom", "hubspot-", "cloudflare")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp", ".avif", ".ico", ".bmp", ".tif", ".tiff")
HEXISH = re.compile(r"^[0-9a-f]{16,}$")


def decode_cfemail(hexstr: str) -> str | None:
    try:
        data = bytes.fromhex(hexstr)
    except ValueError:
        return None
    if len(data) < 2:
        return None
    key = data[0]
    try:
        return bytes(b ^ key for b in data[1:]).decode("utf-8")
    except UnicodeDecodeError:
        return None


def clean_email(candidate: str) -> str | None:
    """The address in canonical form, or None for a false positive or an invalid address."""
    candidate = unquote(candidate).strip().strip(".,;:").lower()
    local, _, domain = candidate.rpartition("@")
    if not local or not domain or len(candidate) > 254:
        return None
    if domain.endswith(IMAGE_SUFFIXES) or local.endswith(IMAGE_SUFFIXES) or re.search(r"@\d+x\.", candidate):
        return None
    if domain in PLACEHOLDER_DOMAINS or domain.endswith((".example", ".invalid", ".test", ".localhost")):
        return None
    if local in PLACEHOLDER_LOCALS or HEXISH.match(local):
        return None
    if any(part in domain for part in TRACKING_DOMAIN_PARTS):
        return None
    if registered_domain(domain) is None:
        return None
    try:
        valid = validate_email(candidate, check_deliverability=False)
    except EmailNotValidError:
        return None
    return valid.normalized.lower()


def registered_domain(domain: str) -> str | None:
    """The domain someone registered (studio.co.uk for mail.studio.co.uk), by the public suffix
    list; None for a public suffix itself (co.uk) or an unknown top-level domain."""
    found = get_tld(domain, fix_protocol=True, as_object=True, fail_silently=True)
    if not isinstance(found, Result) or found.fld == found.tld:  # None: no such domain
        return None
    return found.fld


def deobfuscate(text: str) -> str:
    """[at], (at) and [dot] written out, in text whose white space is single spaces; lower-cased."""
    text = text.lower()
    if "at" not in text and "arroba" not in text:
        return text
    text = PLAIN.sub(_plain_address, DOT.sub(".", AT_WORD.sub("@", AT.sub("@", text))))
    return text + _spaced_out(text)


# "m a i l@e x a m p l e.c o m", once [at] and [dot] are read: letters spaced out around an @.
SPACED_AT = re.compile(r"@(?<= [a-z0-9]@)")
SPACED_RUN = re.compile(r"[a-z0-9](?<![a-z0-9].)(?: [a-z0-9]){1,63}(?![a-z0-9])")


def _spaced_out(text: str) -> str:
    """The neighbourhood of each @ that follows a lone letter, with runs of lone letters joined,
    appended to the text (only there: joining them everywhere costs a pass over the whole page
    and would glue unrelated initials together)."""
    windows = []
    for match in SPACED_AT.finditer(text):
        window = text[max(match.start() - 130, 0) : match.end() + 130]
        windows.append(SPACED_RUN.sub(lambda run: run.group().replace(" ", ""), window))
        if len(windows) >= 20:
            break
    return "".join(" " + w for w in windows)


def _plain_address(match: re.Match) -> str:
    if not MAIL_CUE.search(match.string, max(match.start() - 60, 0), match.start() + 1):
        return match.group()
    return "@" + match.group(1).replace(" dot ", ".") + "." + match.group(2)


def in_text(text: str, limit: int) -> list[str]:
    """Candidate addresses in the page's text (white space collapsed), obfuscations read."""
    found: list[str] = []
    for match in EMAIL.finditer(deobfuscate(text)):
        if len(found) >= limit:
            break
        found.append(match.group())
    return found

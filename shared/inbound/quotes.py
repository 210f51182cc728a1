"""The new text of a reply: what its writer typed, without the quoted history below it, the
signature, the phone's "sent from" line or the legal disclaimer. Only this text is read for the
reply's intent: our own message quoted below ("if you are interested, …") must never count.

Rules for English, Spanish, German and French mail clients (Gmail, Outlook, Apple Mail,
Thunderbird), applied line by line; nothing here raises on hostile text.
"""

from __future__ import annotations

import re

TEXT_MAX = 5000  # of new text kept: a person's answer is short; a pasted document is not read in full

# Where quoted history begins.
QUOTE_START = re.compile(
    r"^\s*(>"
    r"|on\b.{0,200}\bwrote:?\s*$|el\b.{0,200}\bescribi[oó]:?\s*$|am\b.{0,200}\bschrieb.{0,100}:?\s*$"
    r"|le\b.{0,200}\ba [ée]crit\s?:?\s*$"
    r"|-{2,}\s*(original message|forwarded message|mensaje original|mensaje reenviado"
    r"|urspr[üu]ngliche nachricht|weitergeleitete nachricht|message d'origine|message transf[ée]r[ée])\s*-{2,}"
    r"|_{10,}"
    r"|(from|de|von|envoy[ée] par|sent|enviado|gesendet|envoy[ée]|to|para|an|[àa]|subject|asunto|betreff|objet)\s?:\s.+@.+"
    r"|(from|de|von)\s?:\s.{1,120}$)",
    re.I,
)
# A header block of a quoted message: "From:" followed within a few lines by "Sent:"/"Subject:".
HEADER_LINE = re.compile(
    r"^\s*(from|de|von|sent|enviado|gesendet|envoy[ée]|date|fecha|datum|to|para|an|[àa]|subject|asunto|betreff|objet)\s?:",
    re.I,
)
# The line that starts a signature ("-- ", RFC 3676) or a phone's footer.
SIGNATURE_START = re.compile(
    r"^\s*(--\s*$|—\s*$|__\s*$"
    r"|sent from my|get outlook for|enviado desde mi|von meinem .{1,30} gesendet|envoy[ée] de mon|envoy[ée] depuis)",
    re.I,
)
# Closing words after which only the name, title and phone follow.
SIGN_OFF = re.compile(
    r"^\s*(best( regards| wishes)?|kind regards|regards|warm regards|many thanks|thanks( again| so much)?|thank you"
    r"|cheers|all the best|sincerely|br|saludos( cordiales)?|un saludo|atentamente|gracias|muchas gracias"
    r"|un abrazo|cordialmente|mit freundlichen gr[üu](ß|ss)en|freundliche gr[üu](ß|ss)e|viele gr[üu](ß|ss)e"
    r"|beste gr[üu](ß|ss)e|liebe gr[üu](ß|ss)e|gr[üu](ß|ss)e|lg|vg|danke|vielen dank|cordialement|bien cordialement"
    r"|bien [àa] vous|salutations|merci( beaucoup)?|bonne journ[ée]e|[àa] bient[ôo]t|amicalement)\s*[,.!]?\s*$",
    re.I,
)
# Legal footers that follow everything else.
DISCLAIMER = re.compile(
    r"^\s*(this (e-?mail|message)( and any (files|attachments).{0,40})? (is|are|may be|contains?) (confidential|privileged|intended)"
    r"|confidentiality notice|disclaimer:|the information (contained )?in this (e-?mail|message)"
    r"|este (correo|mensaje)( electr[oó]nico)?( y sus anexos)? (es|son|contiene|puede contener) (confidencial|informaci[oó]n)"
    r"|aviso (legal|de confidencialidad)"
    r"|diese (e-?mail|nachricht) (enth[äa]lt|ist|kann) .{0,40}(vertraulich|informationen)|haftungsausschluss"
    r"|ce (message|courriel|mail)( et (toutes )?les pi[èe]ces jointes)? (est|sont|peut contenir) .{0,30}(confidentiel|informations)"
    r"|avertissement\s?:|please consider the environment|think before you print)",
    re.I,
)
SIGNATURE_TAIL_LINES = 8  # a sign-off further from the end than this is part of the message


def new_text(body: str) -> str:
    """The reply's own words: the lines above the quoted history, without signature and footer."""
    lines = (body or "")[: TEXT_MAX * 4].replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept: list[str] = []
    for i, line in enumerate(lines):
        if QUOTE_START.match(line) or _header_block(lines, i) or DISCLAIMER.match(line):
            break
        if SIGNATURE_START.match(line):
            break
        kept.append(line)
    kept = _without_sign_off(kept)
    return "\n".join(kept).strip()[:TEXT_MAX]


def _header_block(lines: list[str], i: int) -> bool:
    """Outlook quotes without ">": a block of two or more header lines ("From:", "Sent:", …)."""
    if not HEADER_LINE.match(lines[i]):
        return False
    following = [line for line in lines[i + 1 : i + 4] if line.strip()]
    return any(HEADER_LINE.match(line) for line in following)


def _without_sign_off(lines: list[str]) -> list[str]:
    """Cuts at the last closing words ("Best regards,", "Saludos", "Mit freundlichen Grüßen")
    when only a few short lines (the name, a title, a phone number) follow them."""
    while lines and not lines[-1].strip():
        lines.pop()
    for i in range(len(lines) - 1, max(-1, len(lines) - 1 - SIGNATURE_TAIL_LINES), -1):
        if SIGN_OFF.match(lines[i]) and i > 0:
            tail = [line for line in lines[i + 1 :] if line.strip()]
            if all(len(line.strip()) <= 60 for line in tail):
                return lines[:i]
    return lines

"""The labelled set of replies (tests/data/replies/labelled.yaml): each item's whole body as a
mail client writes it (the reply, then a signature and the quoted original when the item asks),
and the split it belongs to. About 30% of the items, chosen by a digest of their ids, are held
out: the rules were never tuned on them."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import yaml

SET = Path(__file__).parent / "data" / "replies" / "labelled.yaml"
HELD_OUT_SHARE = 30  # percent

# Our first message, quoted under a reply: it says "interested", "call" and asks a question,
# so reading it as the reply's own words would go wrong.
ORIGINAL = {
    "en": (
        "On Tue, 1 Dec 2026 at 09:14, Ana Ruiz <ana@team.example> wrote:\n"
        "> Hi there,\n> I came across your studio and wanted to reach out. If you are interested,\n"
        "> would you be open to a short call next week? Not interested? Just tell me.\n> Best regards,\n> Ana"
    ),
    "es": (
        "El mar, 1 dic 2026 a las 9:14, Ana Ruiz (<ana@team.example>) escribió:\n"
        "> Hola:\n> He visto su estudio y quería escribirle. Si le interesa, ¿le vendría bien\n"
        "> una llamada breve la próxima semana? Si no le interesa, dígamelo.\n> Un saludo,\n> Ana"
    ),
    "de": (
        "Am Di., 1. Dez. 2026 um 09:14 Uhr schrieb Ana Ruiz <ana@team.example>:\n"
        "> Hallo,\n> ich bin auf Ihr Studio gestoßen. Falls Sie Interesse haben, hätten Sie\n"
        "> nächste Woche Zeit für ein kurzes Telefonat? Kein Interesse? Sagen Sie es mir.\n> Viele Grüße\n> Ana"
    ),
    "fr": (
        "Le mar. 1 déc. 2026 à 09:14, Ana Ruiz <ana@team.example> a écrit :\n"
        "> Bonjour,\n> J'ai découvert votre studio. Si cela vous intéresse, seriez-vous disponible\n"
        "> pour un court appel la semaine prochaine ? Pas intéressé ? Dites-le-moi.\n> Cordialement,\n> Ana"
    ),
}
SIGNATURE = {
    "en": (
        "Best regards,\nSam Carter\nStudio Manager | Greenleaf Yoga\n+1 305 555 0100\n\n"
        "This email and any attachments are confidential and intended solely for the addressee. "
        "If you are not interested in receiving it, or received it in error, delete it."
    ),
    "es": (
        "Un saludo,\nMarta Gil\nDirectora | Estudio Greenleaf\n+34 910 000 000\n\n"
        "Este mensaje es confidencial y va dirigido exclusivamente a su destinatario. "
        "Si no le interesa o lo ha recibido por error, bórrelo."
    ),
    "de": (
        "Mit freundlichen Grüßen\nJan Schulz\nGeschäftsführer | Greenleaf GmbH\n+49 30 000000\n\n"
        "Diese E-Mail enthält vertrauliche Informationen. Wenn Sie nicht der richtige Empfänger sind, "
        "informieren Sie bitte den Absender und löschen Sie diese E-Mail. Termin- und Preisangaben unverbindlich."
    ),
    "fr": (
        "Cordialement,\nJulie Martin\nGérante | Studio Greenleaf\n+33 1 00 00 00 00\n\n"
        "Ce message et toutes les pièces jointes sont confidentiels. Si vous n'êtes pas intéressé "
        "ou l'avez reçu par erreur, merci de le supprimer."
    ),
}


@dataclass(frozen=True)
class Reply:
    id: str
    lang: str
    intent: str
    body: str  # the whole text part, as a mail client writes it

    @property
    def held_out(self) -> bool:
        return int(hashlib.sha256(self.id.encode()).hexdigest(), 16) % 100 < HELD_OUT_SHARE


def load() -> list[Reply]:
    items = yaml.safe_load(SET.read_text())
    return [Reply(i["id"], i["lang"], i["intent"], compose(i)) for i in items]


def compose(item: dict) -> str:
    parts = [item["text"].strip()]
    if item.get("signature"):
        parts.append(SIGNATURE[item["lang"]])
    if item.get("history"):
        parts.append(ORIGINAL[item["lang"]])
    return "\n\n".join(parts) + "\n"

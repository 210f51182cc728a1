"""Message quality as a spam filter sees it: Debian's SpamAssassin (network tests off) over the
messages send_due hands to a real SMTP server, first steps and threaded follow-ups, in HTML and
plain text, English and Spanish. Each scores at most 1.0 and trips none of the structural rules
(a missing or malformed header, broken MIME, a forged sender)."""

from __future__ import annotations

import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor

import pytest

from shared.sending import sender
from tests import factories as f
from tests.integration.test_send_due import ALWAYS_OPEN, smtp  # noqa: F401  (smtp: fixture)

pytestmark = pytest.mark.slow
STRUCTURAL = re.compile(r"^(MISSING_|INVALID_|MIME_|FORGED_|MALFORMED|BAD_ENC|HEADER_SPAM)")
BODY = (
    "Hi Maria,\n\nI came across Sunrise Yoga and your prenatal classes by the ocean. We make natural "
    "rubber mats for studios and would like to send you two to try.\n\nWould a short call next week "
    "suit you?\n\nBest regards,\nAna"
)
CUERPO = (
    "Hola María:\n\nHe visto Pilates Retiro y sus clases en grupos pequeños. Fabricamos esterillas de "
    "caucho natural para estudios y nos gustaría enviarle dos para probarlas.\n\n¿Le vendría bien una "
    "llamada breve la próxima semana?\n\nUn saludo,\nAna"
)


def spamassassin(message: bytes) -> tuple[float, list[str]]:
    result = subprocess.run(
        ["spamassassin", "-L", "-t"], input=message, capture_output=True, timeout=120, check=True
    )
    status = re.search(
        rb"^X-Spam-Status: \w+, score=(-?[\d.]+) required=[\d.]+ tests=(.*?)autolearn",
        result.stdout,
        re.MULTILINE | re.DOTALL,
    )
    assert status, result.stdout[:2000]
    tests = [t.strip() for t in re.split(r"[,\s]+", status.group(2).decode()) if t.strip()]
    return float(status.group(1)), tests


@pytest.fixture(scope="module")
def installed():
    if not shutil.which("spamassassin"):
        pytest.fail("spamassassin is required (.ci/run installs Debian's spamassassin)")


def sequence(conn, language: str, body: str, **settings):
    org_id = f.org(conn, "Sunrise Mats")
    campaign_id = f.campaign(conn, org_id, default_language=language, ai_settings={**ALWAYS_OPEN, **settings})
    contact_id = f.contact(conn, org_id, name="María Álvarez" if language == "es" else "Maria Alvarez")
    f.link(conn, campaign_id, contact_id, status="drafted")
    f.flow(
        conn,
        campaign_id,
        contact_id,
        0,
        subject="Una pregunta" if language == "es" else "A question",
        body=body,
    )
    f.flow(
        conn, campaign_id, contact_id, 1, body=body.split("\n\n")[0] + "\n\nSolo retomo mi mensaje.\n\nAna"
    )


def test_what_send_due_sends_passes_spamassassin(conn, smtp, env, installed):  # noqa: F811
    env(MAIL_FROM="Ana Pérez <ana@sunrise-mats.com>", PUBLIC_BASE_URL="https://outreach.sunrise-mats.com")
    for language, body in (("en", BODY), ("es", CUERPO)):
        for kind in ("html", "text"):
            sequence(conn, language, body, format=kind)
    assert sender.run()["sent"] == 4  # the first steps
    assert sender.run()["sent"] == 4  # the follow-ups, threaded under them
    messages = list(smtp.recorder.messages)
    assert len(messages) == 8
    with ThreadPoolExecutor(max_workers=4) as pool:
        verdicts = list(pool.map(spamassassin, messages))
    for message, (score, tests) in zip(messages, verdicts, strict=True):
        subject = re.search(rb"^Subject: (.*)$", message, re.MULTILINE).group(1)
        assert score <= 1.0, (subject, score, tests)
        assert not [t for t in tests if STRUCTURAL.match(t)], (subject, tests)

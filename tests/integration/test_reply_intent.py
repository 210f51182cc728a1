"""Replies read through a real IMAP server (Dovecot) end in the right intent and the right next
step: reply drafts threaded to the prospect's message and sent only once a person approves
them, follow-up drafts on the date a "not now" named, referred people enrolled with drafts
awaiting approval, the negative-reply breaker; and the LLM path against a local server speaking
the OpenAI chat completions format, falling back to the rules on an odd answer or an error."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime
from zoneinfo import ZoneInfo

import psycopg
import pytest
from psycopg import errors

from shared.drafting import llm
from shared.inbound import intent, sync
from shared.sending import sender
from tests import factories as f
from tests.helpers import as_role, json_answer
from tests.integration.test_draft import completion, fake_llm, run  # noqa: F401 (fixture)
from tests.integration.test_sync_mailboxes import Team, bounce_report, dovecot, smtp  # noqa: F401 (fixtures)


@pytest.fixture
def team(conn, dovecot, smtp, env):  # noqa: F811
    env(LLM_BASE_URL=None, DRAIN_GRACE_SECONDS=0)
    llm._client = None
    return Team(conn, dovecot, smtp)


@pytest.fixture(autouse=True)
def llm_not_paused():
    """Each test starts with the LLM usable (a failure pauses it for the process)."""
    intent._llm_paused_until = 0.0
    yield
    intent._llm_paused_until = 0.0


def first_message_to(team: Team, domain: str | None = None) -> dict:
    """A contact at a company of its own (one conversation per company must not mix the cases)."""
    domain = domain or f"studio-{secrets.token_hex(3)}.example"
    return {**team.contact_with_sent_first_message(f"sam@{domain}"), "domain": domain}


def answer(
    to: dict, body: str, subject: str = "Re: Quick question about your studio", headers: str = ""
) -> tuple:
    """A reply from the contact, quoting our message (whose words must not count), and its Message-ID."""
    message_id = f"<{secrets.token_hex(8)}@{to['domain']}>"
    quoted = (
        "\r\n\r\nOn Tue, 1 Dec 2026 at 09:14, Ana <ana@team.example> wrote:\r\n"
        "> If you are interested, would you be open to a short call? Not interested? Unsubscribe here.\r\n"
    )
    raw = (
        f"From: Sam <{to['email']}>\r\nTo: ana@team.example\r\nSubject: {subject}\r\n"
        f"Date: {format_datetime(datetime.now(UTC))}\r\nMessage-ID: {message_id}\r\n"
        f"In-Reply-To: {to['message_id']}\r\nReferences: {to['message_id']}\r\n{headers}"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        + body.format(domain=to["domain"]).replace("\n", "\r\n")
        + quoted
    )
    return raw.encode(), message_id


def read_back(team: Team, contact: dict) -> dict:
    row = team.conn.execute(
        "SELECT intent, intent_confidence, intent_evidence, needs_review, follow_up_on, next_step, next_flow_id,"
        " referred_contact_id, intent_by FROM inbound_messages WHERE contact_id = %s ORDER BY received_at DESC LIMIT 1",
        (contact["id"],),
    ).fetchone()
    keys = (
        "intent",
        "confidence",
        "evidence",
        "needs_review",
        "follow_up_on",
        "next_step",
        "flow",
        "referred",
        "by",
    )
    return dict(zip(keys, row, strict=True))


def draft_of(team: Team, flow_id) -> dict:
    row = team.conn.execute(
        "SELECT status, flow_type, subject, body, in_reply_to, reply_references, mailbox_id, scheduled_send_time,"
        " campaign_id, sequence_order FROM outreach_flows WHERE id = %s",
        (flow_id,),
    ).fetchone()
    keys = (
        "status",
        "flow_type",
        "subject",
        "body",
        "in_reply_to",
        "references",
        "mailbox",
        "when",
        "campaign",
        "step",
    )
    return dict(zip(keys, row, strict=True))


# One reply of each intent in each language: what it must be read as, and the step it leads to.
DRAFTED, FOLLOW_UP, REFERRED, STOPPED, NOTHING = "draft", "follow-up", "referred", "stopped", "nothing"
CASES = [
    ("en", "interested", "Sounds good, please send me more details.", DRAFTED),
    ("en", "meeting_request", "Yes, call me Tuesday at 3pm.", DRAFTED),
    ("en", "question", "What does it cost for two locations?", DRAFTED),
    ("en", "not_now", "Not right now. Reach back out in March.", FOLLOW_UP),
    ("en", "not_interested", "We already have a provider, no need.", NOTHING),
    ("en", "wrong_person", "I'm not the right person for this.", NOTHING),
    ("en", "referral", "Talk to Sarah Lee instead, sarah@{domain} handles this.", REFERRED),
    ("en", "unsubscribe", "Remove me from your list.", STOPPED),
    ("en", "other", "Received.", NOTHING),
    ("es", "interested", "Suena bien, envíeme más información.", DRAFTED),
    ("es", "meeting_request", "Llámeme el jueves a las 11, por favor.", DRAFTED),
    ("es", "question", "¿Cuánto cuesta al mes?", DRAFTED),
    ("es", "not_now", "Ahora mismo no, escríbame después del verano.", FOLLOW_UP),
    ("es", "not_interested", "Ya trabajamos con otra empresa.", NOTHING),
    ("es", "wrong_person", "No soy la persona adecuada.", NOTHING),
    ("es", "referral", "Hable con Marta, marta@{domain}, ella se encarga.", REFERRED),
    ("es", "unsubscribe", "No me vuelvan a escribir.", STOPPED),
    ("es", "other", "Recibido.", NOTHING),
    ("de", "interested", "Klingt interessant, schicken Sie mir gerne mehr Informationen.", DRAFTED),
    ("de", "meeting_request", "Rufen Sie mich am Donnerstag an.", DRAFTED),
    ("de", "question", "Was kostet das für zwei Standorte?", DRAFTED),
    ("de", "not_now", "Derzeit nicht, melden Sie sich nächsten Monat wieder.", FOLLOW_UP),
    ("de", "not_interested", "Wir haben bereits eine Lösung.", NOTHING),
    ("de", "wrong_person", "Ich bin dafür nicht zuständig.", NOTHING),
    ("de", "referral", "Wenden Sie sich bitte an Frau Weber: weber@{domain}", REFERRED),
    ("de", "unsubscribe", "Bitte austragen.", STOPPED),
    ("de", "other", "Frohe Weihnachten!", NOTHING),
    ("fr", "interested", "Ça m'intéresse, envoyez-moi plus d'informations.", DRAFTED),
    ("fr", "meeting_request", "Appelez-moi mardi à 10h.", DRAFTED),
    ("fr", "question", "Quels sont vos tarifs ?", DRAFTED),
    ("fr", "not_now", "Pas pour le moment, recontactez-moi au T2.", FOLLOW_UP),
    ("fr", "not_interested", "Nous avons déjà un prestataire.", NOTHING),
    ("fr", "wrong_person", "Je ne suis pas la bonne personne.", NOTHING),
    ("fr", "referral", "Contactez plutôt Julie : julie@{domain}, elle s'occupe du marketing.", REFERRED),
    ("fr", "unsubscribe", "Merci de me désabonner.", STOPPED),
    ("fr", "other", "Bien reçu.", NOTHING),
]


def test_replies_of_every_intent_in_four_languages_end_in_the_right_intent_and_step(team):
    sent = []
    for lang, expected, text, step in CASES:
        contact = first_message_to(team)
        raw, message_id = answer(contact, text)
        team.deliver(raw)
        sent.append((lang, expected, step, contact, message_id))
    automatic = first_message_to(team)
    raw, _ = answer(
        automatic, "Je suis absente du bureau.", "Réponse automatique", "Auto-Submitted: auto-replied\r\n"
    )
    bounced = first_message_to(team)
    team.deliver(raw, bounce_report(bounced))
    assert sync.run()["read"] == len(CASES) + 2

    for lang, expected, step, contact, message_id in sent:
        got = read_back(team, contact)
        case = f"{lang} {expected}"
        assert got["intent"] == expected, (case, got)
        assert got["by"] == "rules" and got["evidence"], case
        assert got["needs_review"] == (expected == "other"), case
        if step in (DRAFTED, FOLLOW_UP):
            draft = draft_of(team, got["flow"])
            assert (draft["status"], draft["flow_type"], draft["in_reply_to"]) == (
                "draft",
                "reply",
                message_id,
            ), case
            assert (
                draft["subject"] == "Re: Quick question about your studio"
                and draft["mailbox"] == team.mailbox
            )
            assert "waiting for approval" in got["next_step"], case
        else:
            assert got["flow"] is None, case
        if step == FOLLOW_UP:
            assert got["follow_up_on"] is not None and draft["when"] > datetime.now(UTC), case
            assert draft["when"].astimezone(ZoneInfo("UTC")).date() <= got["follow_up_on"] + timedelta(days=1)
        if step == REFERRED:
            assert got["referred"] is not None, case
            email, referral = team.conn.execute(
                "SELECT email, extra_data -> 'referral' FROM contacts WHERE id = %s", (got["referred"],)
            ).fetchone()
            assert email.endswith("@" + contact["domain"]) and referral["by"] == contact["email"], case
            assert team.conn.execute(
                "SELECT count(*) FROM campaign_contacts WHERE campaign_id = %s AND contact_id = %s",
                (team.campaign, got["referred"]),
            ).fetchone() == (1,), case
        if step == STOPPED:
            assert team.conn.execute(
                "SELECT unsubscribe_requested FROM contacts WHERE id = %s", (contact["id"],)
            ).fetchone() == (True,), case
        if step != STOPPED and expected != "not_interested":
            assert team.contact_state(contact) == "responded", case
    assert read_back(team, automatic)["intent"] == "auto_reply"
    assert read_back(team, bounced)["intent"] == "bounce"

    stats = team.conn.execute(
        "SELECT interested, meeting_request, question, not_now, referral, unsubscribe, other, needs_review,"
        " auto_reply, bounce, human_replies, first_messages_sent, reply_rate"
        " FROM campaign_reply_stats WHERE campaign_id = %s",
        (team.campaign,),
    ).fetchone()
    people = len(CASES)
    assert stats[:10] == (4, 4, 4, 4, 4, 4, 4, 4, 1, 1)
    assert stats[10:12] == (people, people + 2)
    assert float(stats[12]) == round(people / (people + 2), 4)


def approve(database_url, team: Team, flow_id) -> None:
    """A member approves the draft (draft -> scheduled) as the Data API runs the request:
    one committed transaction as `authenticated`, with the member's JWT claims."""
    user = f.user(team.conn)
    f.member(team.conn, team.org, user)
    with psycopg.connect(database_url) as api, api.transaction():
        api.execute(
            "SELECT set_config('request.jwt.claims', %s, true)",
            (json.dumps({"role": "authenticated", "sub": str(user)}),),
        )
        api.execute("SET LOCAL ROLE authenticated")
        assert (
            api.execute("UPDATE outreach_flows SET status = 'scheduled' WHERE id = %s", (flow_id,)).rowcount
            == 1
        )


def test_a_question_gets_a_threaded_reply_draft_that_goes_out_only_once_approved(team, database_url):
    contact = first_message_to(team)
    raw, message_id = answer(contact, "How much does it cost per month for a studio of our size?")
    team.deliver(raw)
    sync.run()
    got = read_back(team, contact)
    assert got["intent"] == "question"
    draft = draft_of(team, got["flow"])
    assert draft["body"].startswith("Hi there,") and "Thank you for your question" in draft["body"]
    assert draft["references"] == f"{contact['message_id']} {message_id}"

    # A draft never goes out by itself.
    assert sender.run()["sent"] == 0
    assert draft_of(team, got["flow"])["status"] == "draft"

    approve(database_url, team, got["flow"])
    assert sender.run()["sent"] == 1
    sent = team.smtp.recorder.parsed()[-1]
    assert sent["In-Reply-To"] == message_id
    assert sent["References"].split() == [contact["message_id"], message_id]
    assert sent["Subject"] == "Re: Quick question about your studio"
    assert team.smtp.recorder.senders[-1] == team.user
    assert sent["To"].addresses[0].addr_spec == contact["email"]
    assert draft_of(team, got["flow"])["status"] == "sent"


def test_a_referral_becomes_a_contact_with_drafts_awaiting_approval_that_name_the_referrer(team):
    contact = first_message_to(team)
    # The company already has the referrer enrolled: one conversation per company lets a referral through.
    raw, _ = answer(
        contact, "I'm not the right person - talk to Sarah Lee instead, sarah.lee@{domain} handles it."
    )
    team.deliver(raw)
    sync.run()
    got = read_back(team, contact)
    assert got["intent"] == "referral"
    name, email = team.conn.execute(
        "SELECT name, email FROM contacts WHERE id = %s", (got["referred"],)
    ).fetchone()
    assert (name, email) == ("Sarah Lee", f"sarah.lee@{contact['domain']}")

    assert run({"campaign_id": str(team.campaign), "contact_id": str(got["referred"])})["drafted"] == 1
    drafts = team.conn.execute(
        "SELECT status, body FROM outreach_flows WHERE campaign_id = %s AND contact_id = %s ORDER BY sequence_order",
        (team.campaign, got["referred"]),
    ).fetchall()
    assert drafts and all(status == "draft" for status, _ in drafts)
    assert "suggested I get in touch with you" in drafts[0][1] and contact["email"] in drafts[0][1]
    (held,) = team.conn.execute("SELECT public.contact_data(%s, %s)", (team.org, email)).fetchone()[0]
    assert held["contact"]["extra_data"]["referral"]["by"] == contact["email"]


def test_a_not_now_reply_schedules_a_follow_up_draft_on_the_named_day_in_the_recipients_zone(team):
    contact = first_message_to(team)
    team.conn.execute("UPDATE contacts SET timezone = 'Pacific/Auckland' WHERE id = %s", (contact["id"],))
    raw, _ = answer(contact, "Not right now, we are mid-season. Try me again in Q2.")
    team.deliver(raw)
    sync.run()
    got = read_back(team, contact)
    today = datetime.now(ZoneInfo("Pacific/Auckland")).date()
    april = date(today.year if today.month < 4 else today.year + 1, 4, 1)
    assert (got["intent"], got["follow_up_on"]) == ("not_now", april)
    draft = draft_of(team, got["flow"])
    local = draft["when"].astimezone(ZoneInfo("Pacific/Auckland"))
    assert (local.date(), local.hour, draft["status"]) == (april, 9, "draft")


def test_quoted_history_alone_changes_nothing_of_the_intent(team):
    contact = first_message_to(team)
    raw, _ = answer(contact, "")  # only our own message, quoted: "interested", "call", "unsubscribe"
    team.deliver(raw)
    sync.run()
    got = read_back(team, contact)
    assert (got["intent"], got["needs_review"], got["flow"]) == ("other", True, None)


def test_the_negative_reply_breaker_pauses_the_campaign_at_its_share_of_first_messages(team):
    team.conn.execute(
        "UPDATE campaigns SET ai_settings = ai_settings || %s WHERE id = %s",
        (json.dumps({"breaker": {"min_sent": 3, "negative_reply_rate": 0.5}}), team.campaign),
    )
    contacts = [first_message_to(team) for _ in range(4)]
    team.deliver(answer(contacts[0], "We already have a provider, no need.")[0])
    sync.run()
    assert team.conn.execute("SELECT status FROM campaigns WHERE id = %s", (team.campaign,)).fetchone() == (
        "active",
    )
    team.deliver(answer(contacts[1], "Bitte austragen.")[0])
    sync.run()
    status, reason = team.conn.execute(
        "SELECT status, paused_reason FROM campaigns WHERE id = %s", (team.campaign,)
    ).fetchone()
    assert status == "paused"
    assert reason == (
        "paused by the negative-reply breaker: 2 not-interested replies and unsubscribes for 4 first messages (limit 50.00%)"
    )


def test_the_breakers_new_key_is_checked_by_the_code_and_by_the_database(conn):
    from shared.campaigns import settings

    assert settings.parse({"breaker": {"negative_reply_rate": 0.2}}).breaker.negative_reply_rate == 0.2
    assert settings.AiSettings().breaker.negative_reply_rate == 0.1
    campaign = f.campaign(conn, ai_settings={"breaker": {"negative_reply_rate": 0.2, "min_sent": 50}})
    with pytest.raises(errors.CheckViolation, match="negative_reply_rate"):
        conn.execute(
            "UPDATE campaigns SET ai_settings = %s WHERE id = %s",
            (json.dumps({"breaker": {"negative_reply_rate": 1.5}}), campaign),
        )
    with pytest.raises(errors.CheckViolation, match="breaker"):
        conn.execute(
            "UPDATE campaigns SET ai_settings = %s WHERE id = %s",
            (json.dumps({"breaker": {"negative_reply_rate": 0.2, "unknown": 1}}), campaign),
        )


def test_members_see_only_their_organizations_reply_stats(database_url, conn):
    mine, theirs = f.campaign(conn), f.campaign(conn)
    user = f.user(conn)
    f.member(conn, f.campaign_org(conn, mine), user)
    with as_role(database_url, "authenticated", user) as api:
        rows = api.execute("SELECT campaign_id FROM campaign_reply_stats").fetchall()
    assert (mine,) in rows and (theirs,) not in rows


# --- the LLM path, against a local server speaking the chat completions format ---


def llm_answer(content: str):
    return completion(content)


@pytest.mark.parametrize(
    ("answers", "expected", "by"),
    [
        (
            [llm_answer('{"intent": "meeting_request", "confidence": 0.93, "evidence": "call me"}')],
            "meeting_request",
            "llm:test-model",
        ),
        ([llm_answer('{"intent": "maybe_later", "confidence": 0.9, "evidence": "x"}')], "question", "rules"),
        ([llm_answer("I think they are interested!")], "question", "rules"),
        ([llm_answer('{"intent": "interested", "confidence": 7}')], "question", "rules"),
        ([json_answer(500, {"error": "down"})], "question", "rules"),
        (
            [llm_answer('{"intent": "interested", "confidence": 0.2, "evidence": "hmm"}')],
            "other",
            "llm:test-model",
        ),
    ],
    ids=["valid", "outside-the-list", "not-json", "confidence-out-of-range", "server-error", "unsure"],
)
def test_the_llm_reads_the_intent_and_the_rules_answer_when_it_fails(fake_llm, answers, expected, by):  # noqa: F811
    fake = fake_llm(*answers)
    found = intent.classify("How much does it cost?", "Re: Quick question", llm.from_settings())
    assert (found.intent, found.by) == (expected, by)
    assert fake.requests and fake.requests[0]["temperature"] == 0.0
    # The reply is data: it travels inside the user message, never as the system prompt.
    assert "How much does it cost?" in fake.requests[0]["messages"][1]["content"]
    if expected == "other":
        assert found.needs_review


def test_the_llm_never_turns_a_clear_no_into_a_yes(fake_llm):  # noqa: F811
    fake_llm(llm_answer('{"intent": "interested", "confidence": 0.95, "evidence": "interested"}'))
    found = intent.classify("Not interested, thanks.", "Re: Quick question", llm.from_settings())
    assert (found.intent, found.needs_review) == ("other", True)
    assert "the rules read not_interested, the LLM interested" in found.evidence


def test_with_an_llm_the_reply_draft_is_the_models_and_its_failure_falls_back_to_the_template(team, fake_llm):  # noqa: F811
    fake = fake_llm(
        llm_answer('{"intent": "question", "confidence": 0.9, "evidence": "what does it cost"}'),
        llm_answer(
            '{"body": "Hi Sam, our plans start at the price on our site. Happy to walk you through it. Ana"}'
        ),
        json_answer(500, {"error": "down"}),  # from here on, every request
    )
    contact = first_message_to(team)
    team.deliver(answer(contact, "What does it cost?")[0])
    sync.run()
    got = read_back(team, contact)
    assert (got["intent"], got["by"]) == ("question", "llm:test-model")
    assert draft_of(team, got["flow"])["body"].startswith("Hi Sam, our plans start")

    other, third = first_message_to(team), first_message_to(team)
    team.deliver(answer(other, "Sounds good, send me more details please.")[0])
    sync.run()
    got = read_back(team, other)
    assert (got["intent"], got["by"]) == ("interested", "rules")
    assert "glad this is of interest" in draft_of(team, got["flow"])["body"]
    # The LLM failed (4 attempts): for a while the rules read alone, without asking it again.
    asked = len(fake.requests)
    assert asked == 2 + llm.MAX_ATTEMPTS
    team.deliver(answer(third, "What does it cost?")[0])
    sync.run()
    assert read_back(team, third)["by"] == "rules" and len(fake.requests) == asked

"""draft_message against a local server speaking the OpenAI chat completions format."""

from __future__ import annotations

import json
import os
import threading
import time
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from shared.drafting import drafter, llm
from tests import factories as f
from tests.helpers import function_client, http_server, json_answer

WINDOW = {
    "days": ["mon", "tue", "wed", "thu", "fri"],
    "start_hour": 9,
    "end_hour": 17,
    "timezone": "Europe/Madrid",
}


def completion(content, prompt_tokens=120, completion_tokens=80):
    return json_answer(
        200,
        {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "model": "test-model",
            "choices": [
                {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        },
    )


def sequence(*bodies, subject="Your studio's spring schedule"):
    return json.dumps({"emails": [{"subject": subject, "body": b} for b in bodies]})


GOOD = sequence(
    "Hi Maria, I read about your prenatal classes by the ocean. We supply studio mats. Open to a chat?",
    "Following up on my note about mats for your studio.",
    "Last note from me; reply any time.",
)


class FakeLlm:
    """Scripted answers, one per request; records every request body."""

    def __init__(self, answers):
        self.answers = list(answers)
        self.requests = []
        self.active = 0
        self.peak = 0
        self.lock = threading.Lock()

    def __call__(self, handler):
        body = json.loads(handler.rfile.read(int(handler.headers["Content-Length"])))
        with self.lock:
            self.requests.append(body)
            answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
            self.active += 1
            self.peak = max(self.peak, self.active)
        try:
            return answer() if callable(answer) else answer
        finally:
            with self.lock:
                self.active -= 1


@pytest.fixture
def fake_llm(env):
    holder = {}

    def start(*answers, **settings):
        fake = FakeLlm(answers)
        holder["server"] = http_server(fake)
        url = holder["server"].__enter__()
        env(
            LLM_BASE_URL=f"{url}/v1",
            LLM_API_KEY="sk-test",
            LLM_MODEL="test-model",
            LLM_RETRY_BASE_SECONDS="0.01",
            DRAIN_GRACE_SECONDS=0,
            **settings,
        )
        llm._client = None
        return fake

    yield start
    if "server" in holder:
        holder["server"].__exit__(None, None, None)
    llm._client = None


def campaign_contact(conn, **campaign_fields):
    org_id = f.org(conn, "Mat Makers")
    fields = {
        "ai_settings": {"sending_window": WINDOW},
        "instructions": "Offer our eco yoga mats",
        "tone": "warm",
        "default_language": "es",
        "word_limit": 60,
        **campaign_fields,
    }
    campaign_id = f.campaign(conn, org_id, **fields)
    task_id = f.search_task(conn, campaign_id)
    scrape_id = f.scrape_result(conn, task_id, status="completed")
    conn.execute(
        "UPDATE scrape_results SET raw_content = 'Prenatal yoga by the ocean since 2012.',"
        " site_name = 'Sunrise Yoga' WHERE id = %s",
        (scrape_id,),
    )
    contact_id = f.contact(conn, org_id, name="Maria Alvarez", source_scrape_id=scrape_id)
    f.link(conn, campaign_id, contact_id)
    return {"campaign_id": str(campaign_id), "contact_id": str(contact_id)}


def run(record):
    return (
        function_client("draft_message")
        .post(
            "/",
            data=json.dumps(
                {
                    "type": "INSERT",
                    "table": "campaign_contacts",
                    "schema": "public",
                    "record": record,
                    "old_record": None,
                }
            ),
            content_type="application/json",
            headers={"X-Webhook-Secret": os.environ["WEBHOOK_SECRET"]},
        )
        .get_json()
    )


def flows(conn, record):
    return conn.execute(
        "SELECT sequence_order, status, subject, body, scheduled_send_time FROM outreach_flows"
        " WHERE campaign_id = %(campaign_id)s AND contact_id = %(contact_id)s ORDER BY sequence_order",
        record,
    ).fetchall()


def state(conn, record):
    return conn.execute(
        "SELECT status, status_reason, drafted_with, prompt_tokens, completion_tokens FROM campaign_contacts"
        " WHERE campaign_id = %(campaign_id)s AND contact_id = %(contact_id)s",
        record,
    ).fetchone()


def test_good_answer_becomes_a_scheduled_sequence(conn, fake_llm):
    fake = fake_llm(completion(GOOD))
    record = campaign_contact(conn)
    assert run(record)["drafted"] == 1
    rows = flows(conn, record)
    assert [r[:2] for r in rows] == [(0, "scheduled"), (1, "scheduled"), (2, "scheduled")]
    madrid = [r[4].astimezone(ZoneInfo("Europe/Madrid")) for r in rows]
    assert all(9 <= t.hour < 17 and t.weekday() < 5 for t in madrid)
    assert rows[1][4] - rows[0][4] >= timedelta(days=3) and rows[2][4] - rows[0][4] >= timedelta(days=7)
    assert state(conn, record) == ("drafted", "3 emails by llm:test-model", "llm:test-model", 120, 80)
    request = fake.requests[0]
    assert request["model"] == "test-model" and request["response_format"]["type"] == "json_schema"
    text = json.dumps(request["messages"], ensure_ascii=False)
    assert "Spanish" in text and "Tone: warm" in text and "Prenatal yoga by the ocean" in text
    assert "at most 60 words" in text and "Offer our eco yoga mats" in text


def test_over_long_body_is_repaired_once(conn, fake_llm):
    long_body = " ".join(["word"] * 90)
    fake = fake_llm(completion(sequence(long_body, "b", "c")), completion(GOOD))
    record = campaign_contact(conn)
    assert run(record)["drafted"] == 1
    assert len(fake.requests) == 2
    assert "over the limit of 60" in fake.requests[1]["messages"][-1]["content"]
    assert state(conn, record)[3:] == (240, 160)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (sequence(" ".join(["word"] * 90), "b", "c"), "over the limit of 60"),
        ("{not json at all", "not the JSON asked for"),
        (sequence("Hi {{first_name}}, quick one.", "b", "c"), "unfilled placeholder"),
        (sequence("Hi [Name], quick one.", "b", "c"), "unfilled placeholder"),
        (sequence("Hi, see <company> soon.", "b", "c"), "unfilled placeholder"),
        (sequence("Hello.", "b", "To unsubscribe, reply STOP."), "no unsubscribe"),
        (sequence("Hello.", "b", "c", subject="x" * 81), "subject is over 80"),
        (sequence("only one"), "exactly 3 emails"),
    ],
)
def test_bad_answer_twice_fails_with_the_reason(conn, fake_llm, content, reason):
    fake = fake_llm(completion(content))
    record = campaign_contact(conn)
    assert run(record)["failed"] == 1
    row = state(conn, record)
    assert row[0] == "failed" and reason in row[1]
    assert flows(conn, record) == [] and len(fake.requests) == 2


def test_429_then_success(conn, fake_llm):
    fake = fake_llm(
        json_answer(429, {"error": {"message": "rate limited"}}, {"Retry-After": "0.1"}), completion(GOOD)
    )
    record = campaign_contact(conn)
    assert run(record)["drafted"] == 1 and len(fake.requests) == 2


def test_500_until_failure(conn, fake_llm):
    fake = fake_llm(json_answer(500, {"error": "down"}), WORK_MAX_ATTEMPTS=2, WORK_RETRY_BASE_SECONDS=0)
    record = campaign_contact(conn)
    assert run(record)["pending"] == 1  # retried later, not lost
    assert state(conn, record)[0] == "pending"
    assert run(record)["failed"] == 1
    row = state(conn, record)
    assert row[0] == "failed" and "the LLM answered 500, 4 attempts" in row[1]
    assert len(fake.requests) == 2 * llm.MAX_ATTEMPTS and flows(conn, record) == []


def test_a_refused_request_fails_at_once_and_is_not_retried(conn, fake_llm):
    # A 4xx other than 429 is final (llm.Refused): the next attempt would be refused the same way.
    fake = fake_llm(json_answer(401, {"error": {"message": "invalid api key"}}), WORK_MAX_ATTEMPTS=3)
    record = campaign_contact(conn)
    assert run(record)["failed"] == 1
    row = state(conn, record)
    assert row[0] == "failed" and "HTTP 401" in row[1]
    assert len(fake.requests) == 1 and flows(conn, record) == []


def test_server_that_never_answers_times_out(conn, fake_llm):
    def hang():
        time.sleep(3)
        return completion(GOOD)

    fake_llm(hang, LLM_TIMEOUT="0.3", WORK_MAX_ATTEMPTS=1)
    record = campaign_contact(conn)
    started = time.monotonic()
    assert run(record)["failed"] == 1
    assert time.monotonic() - started < 10
    assert "did not answer in time" in state(conn, record)[1]


def test_server_without_json_schema_gets_plain_json(conn, fake_llm):
    def respond():
        return completion(GOOD)

    refusal = json_answer(400, {"error": {"message": "response_format json_schema is not supported"}})
    fake = fake_llm(refusal, completion(GOOD))
    record = campaign_contact(conn)
    assert run(record)["drafted"] == 1
    assert fake.requests[1]["response_format"] == {"type": "json_object"}
    assert respond


def test_review_before_send_creates_drafts(conn, fake_llm):
    fake_llm(completion(GOOD))
    record = campaign_contact(conn, ai_settings={"sending_window": WINDOW, "review_before_send": True})
    run(record)
    assert {r[1] for r in flows(conn, record)} == {"draft"}


def test_paused_waits_and_completed_is_skipped(conn, fake_llm):
    fake = fake_llm(completion(GOOD))
    paused = campaign_contact(conn, status="paused")
    done = campaign_contact(conn, status="completed")
    assert run(paused)["postponed"] == 1 and state(conn, paused)[0] == "pending"
    assert conn.execute(
        "SELECT attempts FROM campaign_contacts WHERE contact_id = %s", (paused["contact_id"],)
    ).fetchone() == (0,)
    assert run(done)["skipped"] == 1 and state(conn, done)[0] == "skipped"
    assert fake.requests == []


def test_drafting_twice_creates_nothing_new(conn, fake_llm):
    fake = fake_llm(completion(GOOD))
    record = campaign_contact(conn)
    run(record)
    before = flows(conn, record)
    assert run(record)["skipped"] == 1
    conn.execute(
        "UPDATE campaign_contacts SET status = 'pending', attempts = 0 WHERE contact_id = %s",
        (record["contact_id"],),
    )
    assert run(record)["drafted"] == 1
    assert flows(conn, record) == before and len(fake.requests) == 1


def test_drain_drafts_concurrently_within_its_bound(conn, fake_llm):
    def slow():
        time.sleep(0.2)
        return completion(GOOD)

    fake = fake_llm(slow, DRAIN_CONCURRENCY=3)
    conn.execute("UPDATE campaign_contacts SET status = 'skipped' WHERE status = 'pending'")
    records = [campaign_contact(conn) for _ in range(6)]
    response = (
        function_client("draft_message")
        .post(
            "/",
            data=json.dumps({"drain": True, "limit": 10}),
            content_type="application/json",
            headers={"X-Webhook-Secret": os.environ["WEBHOOK_SECRET"]},
        )
        .get_json()
    )
    assert response["drafted"] == 6
    assert fake.peak == 3
    assert all(len(flows(conn, r)) == 3 for r in records)


def test_template_drafter_is_deterministic_and_checked(conn, env):
    env(LLM_BASE_URL=None, DRAIN_GRACE_SECONDS=0)
    llm._client = None
    first, second = campaign_contact(conn), campaign_contact(conn)
    run(first)
    run(second)
    a, b = flows(conn, first), flows(conn, second)
    assert [(r[2], r[3]) for r in a] == [(r[2], r[3]) for r in b]
    assert a[0][2] == "Una pregunta para Sunrise Yoga" and a[0][3].startswith("Hola Maria:")
    assert state(conn, first)[2] == "template"
    for row in a:
        assert not drafter.PLACEHOLDER.search(row[3]) and len(row[3].split()) <= 60


def test_control_characters_and_nul_from_the_model_are_cleaned(conn, fake_llm):
    subject = "Mats\x0bfor\x0cyour\x1cstudio\x00\u202e"
    body = "Hi Maria,\x00 a note.\r\n\r\nOur\x0b mats.\x1b[31m"
    fake_llm(
        completion(sequence(body, "b\x00", "c", subject=subject), prompt_tokens=-5, completion_tokens=-1)
    )
    record = campaign_contact(conn)
    assert run(record)["drafted"] == 1
    rows = flows(conn, record)
    assert rows[0][2] == "Mats for your studio"
    assert rows[0][3] == "Hi Maria, a note.\n\nOur\n mats.[31m"
    assert state(conn, record)[3:] == (0, 0)  # a negative or unreadable count is recorded as 0


def test_internal_campaign_name_never_reaches_the_drafts(conn, fake_llm):
    fake = fake_llm(completion(GOOD))
    record = campaign_contact(conn, campaign_name="Florida dentists, cheap list")
    run(record)
    assert "Florida dentists" not in json.dumps(fake.requests[0]["messages"])


def test_template_follow_ups_never_show_the_internal_campaign_name(conn, env):
    env(LLM_BASE_URL=None)
    record = campaign_contact(conn, campaign_name="Florida dentists, cheap list", default_language="en")
    run(record)
    rows = flows(conn, record)
    assert len(rows) == 3 and all("Florida" not in subject + body for _, _, subject, body, _ in rows)
    assert rows[1][2] == rows[0][2]  # a follow-up's subject is the first one's (sent as "Re: …")

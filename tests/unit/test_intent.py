"""The offline reading of replies: the hard rule over the whole labelled set (no positive reply
read as negative, or the other way round), what counts as the reply's own words, and the dates
a "not now" names."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest

from shared.inbound import dates, intent, quotes
from tests.replies import load

SET = load()


def read(body: str) -> intent.Intent:
    return intent.classify(quotes.new_text(body))


def test_the_set_is_large_enough_and_covers_every_intent_in_every_language():
    assert len(SET) >= 150
    cells = Counter((r.intent, r.lang) for r in SET)
    assert {i for i, _ in cells} == set(intent.INTENTS)
    assert all(cells[(i, lang)] >= 4 for i in intent.INTENTS for lang in ("en", "es", "de", "fr"))
    held = sum(r.held_out for r in SET) / len(SET)
    assert 0.2 < held < 0.4


def test_no_positive_reply_is_read_as_negative_or_the_other_way_round():
    crossed = [
        (r.id, got.intent)
        for r in SET
        if (got := read(r.body))
        and (
            (r.intent in intent.POSITIVE and got.intent in intent.NEGATIVE)
            or (r.intent in intent.NEGATIVE and got.intent in intent.POSITIVE)
        )
    ]
    assert crossed == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Kein Interesse.", "not_interested"),
        ("Cela ne nous intéresse pas.", "not_interested"),
        ("I'm not interested.", "not_interested"),
        ("Interested, but stop emailing me.", "other"),
    ],
)
def test_a_positive_word_inside_a_negative_phrase_is_not_positive(text, expected):
    got = read(text)
    assert got.intent == expected
    if expected == "other":
        assert got.needs_review and got.evidence.startswith("needs review")


def test_only_the_new_text_counts():
    body = (
        "Not interested, thanks.\n\nBest regards,\nSam\nStudio Manager\n\n"
        "This email and any attachments are confidential and intended solely for the addressee.\n\n"
        "On Tue, 1 Dec 2026 at 09:14, Ana <ana@team.example> wrote:\n> If you are interested, shall we call?\n"
    )
    assert quotes.new_text(body) == "Not interested, thanks."
    outlook = "Sounds good.\n\nFrom: Ana <ana@team.example>\nSent: Tuesday\nSubject: Quick question\nNot interested?"
    assert quotes.new_text(outlook) == "Sounds good."
    assert quotes.new_text("Yes please.\n\nEnviado desde mi iPhone") == "Yes please."
    assert read("> Would you be interested in a call?\n> Unsubscribe").intent == "other"


def test_the_reading_carries_its_evidence_and_confidence():
    got = read("Hi Ana, thanks. Could we book a call on Thursday at 2pm? Best, Sam")
    assert got.intent == "meeting_request"
    assert "Thursday" in got.evidence and 0.5 <= got.confidence <= 1
    assert read("").needs_review


TODAY = date(2026, 12, 4)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Reach out in March.", date(2027, 3, 1)),
        ("Try again after the summer.", date(2027, 9, 1)),
        ("Budget opens in Q2.", date(2027, 4, 1)),
        ("Melden Sie sich nächsten Monat.", date(2027, 1, 1)),
        ("Escríbame a partir de septiembre.", date(2027, 9, 1)),
        ("Recontactez-moi à la rentrée.", date(2027, 9, 1)),
        ("Follow up next quarter.", date(2027, 1, 1)),
        ("Write again in two weeks.", date(2026, 12, 18)),
        ("Ping me after the holidays.", date(2027, 1, 7)),
        ("Maybe later.", None),
    ],
)
def test_a_not_now_keeps_the_date_it_names(text, expected):
    assert dates.follow_up_date(text, TODAY) == expected


def test_a_month_already_begun_means_next_year():
    assert dates.follow_up_date("in December", TODAY) == date(2027, 12, 1)
    assert dates.follow_up_date("in Q4", TODAY) == date(2027, 10, 1)

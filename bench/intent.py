"""The offline intent rules on the labelled replies (tests/data/replies/labelled.yaml): accuracy
on the split the rules were written against and on the held-out split, the confusion matrix,
the hard rule (no positive reply read as negative or the other way round), and the time to read
one reply (stripping quoted history and signature included)."""

from __future__ import annotations

import statistics
import time
from collections import Counter

from shared.inbound import intent, quotes
from tests.replies import load

REPEATS = 20
SHORT = {
    "interested": "int",
    "meeting_request": "meet",
    "question": "q",
    "not_now": "later",
    "not_interested": "no",
    "wrong_person": "wrong",
    "referral": "ref",
    "unsubscribe": "unsub",
    "auto_reply": "auto",
    "bounce": "bnc",
    "other": "other",
}


def run() -> dict:
    replies = load()
    results = [(r, intent.classify(quotes.new_text(r.body)).intent) for r in replies]
    # Each reply's time is the median of REPEATS readings, so another process taking the core
    # for a moment (2 shared cores) does not pass for a slow reply.
    timings = []
    for r in replies:
        runs = []
        for _ in range(REPEATS):
            started = time.perf_counter()
            intent.classify(quotes.new_text(r.body))
            runs.append((time.perf_counter() - started) * 1e6)
        timings.append(statistics.median(runs))
    timings.sort()
    return {"results": results, "timings": timings}


def _accuracy(pairs) -> str:
    pairs = list(pairs)
    right = sum(r.intent == got for r, got in pairs)
    return f"{right / len(pairs):.3f} ({right}/{len(pairs)})"


def table(result: dict) -> str:
    results = result["results"]
    dev = [(r, g) for r, g in results if not r.held_out]
    held = [(r, g) for r, g in results if r.held_out]
    crossed = sum(
        (r.intent in intent.POSITIVE and g in intent.NEGATIVE)
        or (r.intent in intent.NEGATIVE and g in intent.POSITIVE)
        for r, g in results
    )
    lines = [
        "| split | accuracy |",
        "|---|---|",
        f"| written against (70%) | {_accuracy(dev)} |",
        f"| held out (30%) | {_accuracy(held)} |",
        f"| whole set | {_accuracy(results)} |",
        *(
            f"| whole set, {lang} | {_accuracy((r, g) for r, g in results if r.lang == lang)} |"
            for lang in ("en", "es", "de", "fr")
        ),
        f"| positive read as negative or the other way round | {crossed} |",
        "",
        "Confusion matrix, whole set (rows: the label; columns: what the rules read):",
        "",
    ]
    cells = Counter((r.intent, g) for r, g in results)
    head = [SHORT[i] for i in intent.INTENTS]
    lines.append("| label \\ read | " + " | ".join(head) + " |")
    lines.append("|---" * (len(head) + 1) + "|")
    for label in intent.INTENTS:
        row = [str(cells[(label, got)] or "") for got in intent.INTENTS]
        lines.append(f"| {label} | " + " | ".join(row) + " |")
    timings = result["timings"]
    p50 = statistics.median(timings)
    p99 = timings[max(int(len(timings) * 0.99) - 1, 0)]
    lines += [
        "",
        f"One reply read (quoted text stripped, then the rules), each reply's median of {REPEATS}: "
        f"p50 {p50:.0f} µs, p99 {p99:.0f} µs, slowest {timings[-1]:.0f} µs over {len(timings)} replies.",
    ]
    return "\n".join(lines)

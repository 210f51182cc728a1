"""Runs every benchmark and rewrites its table in docs/PERFORMANCE.md.

python -m bench                 all of them (make bench)
python -m bench sending claim   some of them
"""

from __future__ import annotations

import importlib
import re
import sys
import time

from bench.common import ROOT, machine, today

DOC = ROOT / "docs" / "PERFORMANCE.md"
BENCHMARKS = (
    "extraction",
    "corpus",
    "sending",
    "mailboxes",
    "sender_domains",
    "events",
    "claim",
    "rls",
    "console",
    "drafting",
    "coldstart",
    "localrun",
    "intent",
)


def rewrite(name: str, body: str) -> None:
    text = DOC.read_text()
    pattern = re.compile(rf"(<!-- bench:{name} -->\n).*?(<!-- /bench:{name} -->)", re.DOTALL)
    if not pattern.search(text):
        raise SystemExit(f"{DOC} has no <!-- bench:{name} --> section")
    stamp = f"_Measured {today()} on {machine()}; `python -m bench {name}`._\n\n"
    DOC.write_text(pattern.sub(lambda m: m[1] + stamp + body + "\n" + m[2], text))


def main(names: list[str]) -> int:
    chosen = names or list(BENCHMARKS)
    for name in chosen:
        if name not in BENCHMARKS:
            raise SystemExit(f"unknown benchmark {name!r}; choose from {', '.join(BENCHMARKS)}")
    for i, name in enumerate(chosen, 1):
        print(f"[{i}/{len(chosen)}] {name}", file=sys.stderr, flush=True)
        module = importlib.import_module(f"bench.{name}")
        started = time.perf_counter()
        result = module.run()
        table = module.table(result)
        rewrite(name, table)
        print(table, flush=True)
        print(f"   ({time.perf_counter() - started:.0f} s)\n", file=sys.stderr, flush=True)
    print(f"rewrote {DOC.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

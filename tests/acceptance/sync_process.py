"""A sync_mailboxes instance in its own process, for the crash and concurrency tests and the
benchmark: one run, then its counts, time and peak memory as JSON."""

import json
import time
from pathlib import Path

from shared.inbound import sync


def main() -> None:
    started = time.perf_counter()
    counts = sync.run()
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss across exec, from the parent.
    peak = int(Path("/proc/self/status").read_text().split("VmHWM:")[1].split()[0]) / 1024
    print(json.dumps({"seconds": time.perf_counter() - started, "rss_mb": peak, **counts}), flush=True)


if __name__ == "__main__":
    main()

"""A send_due instance in its own process, for the concurrency and crash tests and the
benchmark: runs batches until two in a row claim nothing, then prints its counts as JSON, with
when its first batch began and its last ended (wall clock, comparable across processes)."""

import json
import sys
import time
from pathlib import Path

from shared.sending import sender


def main() -> None:
    limit = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    totals: dict[str, float] = {}
    idle = 0
    totals["started"] = time.time()
    while idle < 2:
        counts = sender.run(limit=limit)
        for key, value in counts.items():
            totals[key] = totals.get(key, 0) + value
        idle = idle + 1 if counts["claimed"] == 0 else 0
    totals["ended"] = time.time()
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss across exec, from the parent.
    status = Path("/proc/self/status").read_text().split("VmHWM:")[1].split()[0]
    totals["max_rss_mb"] = int(status) / 1024
    print(json.dumps(totals), flush=True)


if __name__ == "__main__":
    main()

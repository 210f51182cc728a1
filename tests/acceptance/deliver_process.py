"""A deliver_events instance in its own process, for the concurrency test and the benchmark:
runs until two calls in a row claim nothing, then prints its counts as JSON."""

import json
import time

from shared.events import deliver


def main() -> None:
    totals: dict[str, int] = {}
    idle = 0
    while idle < 2:
        counts = deliver.run()
        for key, value in counts.items():
            totals[key] = totals.get(key, 0) + value
        idle = idle + 1 if counts["claimed"] == 0 else 0
        if counts["claimed"] == 0:
            time.sleep(0.2)
    print(json.dumps(totals), flush=True)


if __name__ == "__main__":
    main()

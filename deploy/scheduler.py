"""Cloud Scheduler jobs: send_due every minute and sync_mailboxes every 2 minutes (private, OIDC), the three drains every few
minutes and deliver_events every minute (public functions that check X-Webhook-Secret). Created or updated, so deploying twice
changes nothing.

    python3 -m deploy.scheduler --project P --region R --base-url URL --service-account SA [--dry-run]

The webhook secret is read from WEBHOOK_SECRET.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass


@dataclass(frozen=True)
class JobSpec:
    function: str
    schedule: str
    body: dict
    oidc: bool


JOBS = (
    JobSpec("send_due", "* * * * *", {}, oidc=True),
    JobSpec("sync_mailboxes", "*/2 * * * *", {}, oidc=True),
    JobSpec("run_search", "*/5 * * * *", {"drain": True, "limit": 50}, oidc=False),
    JobSpec("scrape_url", "*/3 * * * *", {"drain": True, "limit": 50}, oidc=False),
    JobSpec("draft_message", "*/3 * * * *", {"drain": True, "limit": 50}, oidc=False),
    # Public like the drains: the database's webhook calls it too, with X-Webhook-Secret.
    JobSpec("deliver_events", "* * * * *", {}, oidc=False),
)


def build_jobs(project: str, region: str, base_url: str, secret: str, service_account: str) -> list:
    try:
        from google.cloud import scheduler_v1
        from google.protobuf import duration_pb2
    except ImportError:
        raise SystemExit(
            "google-cloud-scheduler is missing: run deploy.sh from the project's environment"
            " (make creates .venv/ from requirements-dev.lock) or set PYTHON to one that has it"
        ) from None

    parent = f"projects/{project}/locations/{region}"
    jobs = []
    for spec in JOBS:
        uri = f"{base_url.rstrip('/')}/{spec.function}"
        target = scheduler_v1.HttpTarget(
            uri=uri,
            http_method=scheduler_v1.HttpMethod.POST,
            headers={"Content-Type": "application/json", "X-Webhook-Secret": secret},
            body=json.dumps(spec.body).encode(),
        )
        if spec.oidc:
            target.oidc_token = scheduler_v1.OidcToken(service_account_email=service_account, audience=uri)
        jobs.append(
            scheduler_v1.Job(
                name=f"{parent}/jobs/outreach-{spec.function.replace('_', '-')}",
                description=f"Outreach: {spec.function}" + (" (drain)" if spec.body.get("drain") else ""),
                schedule=spec.schedule,
                time_zone="Etc/UTC",
                http_target=target,
                attempt_deadline=duration_pb2.Duration(seconds=540),
            )
        )
    return jobs


def apply(client, jobs: list) -> list[str]:
    """Update each job, creating the ones that do not exist yet."""
    from google.api_core.exceptions import NotFound

    done = []
    for job in jobs:
        parent = job.name.rsplit("/jobs/", 1)[0]
        try:
            client.update_job(job=job)
            done.append(f"updated {job.name}")
        except NotFound:
            client.create_job(parent=parent, job=job)
            done.append(f"created {job.name}")
    return done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.scheduler")
    for name in ("project", "region", "base-url", "service-account"):
        parser.add_argument(f"--{name}", required=True)
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args(argv)
    secret = os.environ.get("WEBHOOK_SECRET")
    if not secret:
        print("WEBHOOK_SECRET is required", file=sys.stderr)
        return 2
    jobs = build_jobs(args.project, args.region, args.base_url, secret, args.service_account)
    if args.dry_run:
        for job in jobs:
            print(f"would create or update {job.name} ({job.schedule}) -> {job.http_target.uri}")
        return 0
    from google.cloud import scheduler_v1

    for line in apply(scheduler_v1.CloudSchedulerClient(), jobs):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())

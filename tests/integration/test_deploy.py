"""deploy.sh --dry-run, the build directories, and the Cloud Scheduler jobs against a fake client."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys

import pytest

from deploy import scheduler
from local.run import FUNCTIONS
from tests.helpers import ROOT, function_client

SECRETS = {
    "DATABASE_URL": "postgresql://postgres.ref:db-password-123@pooler:6543/postgres",
    "WEBHOOK_SECRET": "webhook-secret-456-" + "w" * 32,
    "UNSUBSCRIBE_SECRET": "unsub-secret-789-" + "u" * 32,
    "SUPABASE_JWT_SECRET": "jwt-secret-abc",
    "SEARCH_API_KEY": "search-key-def",
    "LLM_API_KEY": "sk-llm-ghi",
}


def deploy_dry_run(**extra) -> str:
    env = {
        "PATH": f"{os.path.dirname(sys.executable)}:/usr/bin:/bin",
        "HOME": os.environ.get("HOME", "/root"),
        "GCP_PROJECT": "acme-outreach",
        "GCP_REGION": "europe-west1",
        "SUPABASE_PROJECT_REF": "abcdefgh",
        "SUPABASE_DB_URL": "postgresql://postgres:direct-pass@db.abcdefgh.supabase.co:5432/postgres",
        "SENDER_POSTAL_ADDRESS": "1 Main St",
        "MAIL_FROM": "Acme <hi@acme.example>",
        "SEARCH_PROVIDER": "brave",
        "LLM_BASE_URL": "https://api.openai.com/v1",
        **SECRETS,
        **extra,
    }
    result = subprocess.run(
        ["bash", "deploy.sh", "--dry-run"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout + result.stderr


@pytest.fixture(scope="module")
def dry_run():
    return deploy_dry_run()


def documented_variables() -> set[str]:
    """Every variable named in the first column of README's configuration tables."""
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Configuration") : text.index("\n## ", text.index("## Configuration") + 5)]
    names = set()
    for row in section.splitlines():
        if row.startswith("| `"):
            names.update(re.findall(r"`([A-Z][A-Z0-9_]+)`", row.split("|")[1]))
    return names


LOCAL_ONLY = {"DATA_DIR", "ALLOW_PRIVATE_NETWORK"}


def deployed_variables(line: str) -> set[str]:
    env = re.search(r"--set-env-vars \^\|\^(\S+(?: \S+)*?) --set-secrets", line)
    secrets = re.search(r"--set-secrets (\S+)", line)
    names = {pair.split("=", 1)[0] for pair in env.group(1).split("|")}
    return names | {pair.split("=", 1)[0] for pair in secrets.group(1).split(",")}


def test_every_documented_variable_reaches_every_function():
    documented = documented_variables()
    assert {"UNSUBSCRIBE_PREVIOUS_SECRETS", "UNSUBSCRIBE_MAILTO", "SEND_BATCH_SIZE"} <= documented
    values = {name: f"value-of-{name.lower()}-" + "x" * 32 for name in documented - LOCAL_ONLY}
    output = deploy_dry_run(**values)
    for fn in FUNCTIONS:
        line = next(row for row in output.splitlines() if row.startswith(f"gcloud functions deploy {fn} "))
        assert deployed_variables(line) == documented - LOCAL_ONLY, fn
        for name in ("UNSUBSCRIBE_PREVIOUS_SECRETS", "SMTP_URL", "AWS_SECRET_ACCESS_KEY"):
            assert f"{name}=outreach-{name.lower().replace('_', '-')}:latest" in line
    for name in ("UNSUBSCRIBE_PREVIOUS_SECRETS", "AWS_SECRET_ACCESS_KEY", "SMTP_URL"):
        assert values[name] not in output


def test_every_setting_is_documented():
    from shared.core.config import Settings

    settings = {name.upper() for name in Settings.model_fields} - {"K_SERVICE"}
    assert settings <= documented_variables(), settings - documented_variables()


@pytest.mark.parametrize(
    ("variable", "value"),
    [("WEBHOOK_SECRET", ""), ("WEBHOOK_SECRET", "short-but-set"), ("UNSUBSCRIBE_SECRET", "")],
)
def test_a_deployed_function_refuses_to_start_with_an_empty_or_short_secret(variable, value):
    env = {
        "PATH": os.environ["PATH"],
        "HOME": "/tmp",
        "K_SERVICE": "send_due",
        "WEBHOOK_SECRET": "w" * 32,
        "UNSUBSCRIBE_SECRET": "u" * 32,
        variable: value,
    }
    result = subprocess.run(
        [sys.executable, "-c", "import runpy; runpy.run_path('functions/send_due/main.py')"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert f"invalid configuration: {variable}" in result.stderr
    if value:
        assert value not in result.stderr


def test_an_empty_secret_is_unset_locally(env):
    from shared.core.config import get_settings

    env(WEBHOOK_SECRET="", K_SERVICE=None)
    secret = get_settings().webhook_secret.get_secret_value()
    assert len(secret) >= 32
    response = function_client("send_due").post("/", json={})
    assert response.status_code == 401


def test_dry_run_deploys_every_function(dry_run):
    for fn in FUNCTIONS:
        line = next(row for row in dry_run.splitlines() if row.startswith(f"gcloud functions deploy {fn} "))
        assert (
            "--gen2 --runtime python312" in line
            and "--trigger-http" in line
            and f"--source build/{fn}" in line
        )
        assert ("--no-allow-unauthenticated" in line) == (fn in ("send_due", "sync_mailboxes"))
        assert (
            "DATABASE_URL=outreach-database-url:latest" in line
            and "LLM_API_KEY=outreach-llm-api-key:latest" in line
        )
        assert "PUBLIC_BASE_URL=https://europe-west1-acme-outreach.cloudfunctions.net" in line


def test_dry_run_covers_database_vault_and_scheduler(dry_run):
    assert "supabase db push" in dry_run and "upsert vault secret outreach_functions_url" in dry_run
    assert "upsert vault secret outreach_webhook_secret" in dry_run
    for job in ("send-due", "run-search", "scrape-url", "draft-message"):
        assert f"jobs/outreach-{job}" in dry_run


def test_dry_run_never_prints_a_secret(dry_run):
    for value in [*SECRETS.values(), "direct-pass"]:
        assert value not in dry_run


def test_missing_configuration_is_named():
    env = {"PATH": f"{os.path.dirname(sys.executable)}:/usr/bin:/bin", "HOME": "/root"}
    result = subprocess.run(
        ["bash", "deploy.sh"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert (
        "GCP_PROJECT" in result.stderr
        and "WEBHOOK_SECRET" in result.stderr
        and "SUPABASE_DB_URL" in result.stderr
    )


@pytest.mark.parametrize("fn", FUNCTIONS)
def test_each_build_directory_imports_on_its_own(dry_run, fn):
    build = ROOT / "build" / fn
    assert sorted(p.name for p in build.iterdir()) == ["main.py", "requirements.txt", "shared"]
    # The lock ships, exact versions with hashes: the function runs what the tests ran.
    assert (build / "requirements.txt").read_text() == (ROOT / "requirements.lock").read_text()
    assert not list((build / "shared").rglob("fixture_site")) and not list(
        (build / "shared").rglob("embedded.py")
    )
    env = {
        "PATH": os.environ["PATH"],
        "WEBHOOK_SECRET": "x" * 32,
        "UNSUBSCRIBE_SECRET": "y" * 32,
        "K_SERVICE": fn,
        "HOME": "/tmp",
    }
    result = subprocess.run(
        [sys.executable, "-c", "import main; print(main.__file__)"],
        cwd=build,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-1500:]
    assert result.stdout.strip() == str(build / "main.py")


class FakeSchedulerClient:
    def __init__(self, existing: set[str]):
        self.jobs = {name: None for name in existing}
        self.calls = []

    def update_job(self, job):
        from google.api_core.exceptions import NotFound

        self.calls.append(("update", job.name))
        if job.name not in self.jobs:
            raise NotFound("no such job")
        self.jobs[job.name] = job

    def create_job(self, parent, job):
        self.calls.append(("create", job.name))
        assert job.name.startswith(parent + "/jobs/")
        self.jobs[job.name] = job


def test_scheduler_jobs_are_created_then_updated():
    jobs = scheduler.build_jobs("acme", "europe-west1", "https://fn.example", "s3cret", "sched@acme.iam")
    by_name = {j.name.rsplit("/", 1)[1]: j for j in jobs}
    send = by_name["outreach-send-due"]
    assert send.schedule == "* * * * *" and send.http_target.uri == "https://fn.example/send_due"
    assert send.http_target.oidc_token.service_account_email == "sched@acme.iam"
    assert send.http_target.headers["X-Webhook-Secret"] == "s3cret"
    drain = by_name["outreach-scrape-url"]
    assert (
        drain.http_target.body == b'{"drain": true, "limit": 50}'
        and not drain.http_target.oidc_token.service_account_email
    )

    client = FakeSchedulerClient(existing={send.name})
    lines = scheduler.apply(client, jobs)
    assert lines[0] == f"updated {send.name}" and all(line.startswith("created") for line in lines[1:])
    again = scheduler.apply(client, jobs)
    assert all(line.startswith("updated") for line in again) and len(client.jobs) == 6
    deliver = by_name["outreach-deliver-events"]
    assert deliver.schedule == "* * * * *" and deliver.http_target.body == b"{}"
    assert not deliver.http_target.oidc_token.service_account_email
    sync = by_name["outreach-sync-mailboxes"]
    assert sync.schedule == "*/2 * * * *" and sync.http_target.body == b"{}"
    assert sync.http_target.oidc_token.service_account_email == "sched@acme.iam"


def imported_modules(path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def test_nothing_under_shared_imports_the_local_stack_or_deployment():
    offenders = {}
    for path in (ROOT / "shared").rglob("*.py"):
        bad = {
            name
            for name in imported_modules(path)
            if name.split(".")[0] in ("local", "deploy", "pgserver", "tests", "bench")
            or name.startswith("google.cloud")
        }
        if bad:
            offenders[str(path.relative_to(ROOT))] = bad
    assert offenders == {}


def test_shared_reads_as_the_pipeline():
    packages = sorted(p.name for p in (ROOT / "shared").iterdir() if p.is_dir() and p.name != "__pycache__")
    assert packages == [
        "campaigns",
        "console",
        "core",
        "discovery",
        "drafting",
        "events",
        "inbound",
        "mailboxes",
        "sending",
    ]
    top_modules = [p.name for p in (ROOT / "shared").glob("*.py")]
    assert top_modules == ["__init__.py"]

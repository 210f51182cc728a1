"""Configuration from the environment (the README's configuration tables), read once per process."""

from __future__ import annotations

import ipaddress
import json
import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parents[2]


class ConfigError(RuntimeError):
    """A missing or malformed environment variable; the message names it, never its value."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False)

    database_url: str | None = None
    db_pool_size: int = Field(default=4, ge=1, le=64)
    data_dir: Path = ROOT / ".data"

    webhook_secret: SecretStr | None = None
    supabase_jwt_secret: SecretStr | None = None
    supabase_url: str | None = None
    # The project's public (anon / publishable) key: the console's page sends it to Supabase Auth.
    supabase_anon_key: str | None = None
    jwks_refresh_cooldown: float = Field(default=30.0, ge=0)

    unsubscribe_secret: SecretStr | None = None
    # Comma-separated keys that signed earlier links: accepted, never used to sign.
    unsubscribe_previous_secrets: str = ""
    public_base_url: str = "http://127.0.0.1:8080"

    search_provider: Literal["fixture", "brave", "serpapi", "serper"] = "fixture"
    search_api_key: SecretStr | None = None
    search_base_url: str | None = None
    search_results_per_task: int = Field(default=20, ge=1, le=100)
    search_retry_base_seconds: float = Field(default=1.0, ge=0)
    # Comma-separated hosts that are never prospects; unset: shared/discovery/prospects.py's default list.
    search_skip_hosts: str | None = None

    llm_base_url: str | None = None
    llm_api_key: SecretStr | None = None
    llm_model: str | None = None
    llm_timeout: float = Field(default=60.0, gt=0)
    llm_retry_base_seconds: float = Field(default=1.0, ge=0)

    mail_transport: Literal["smtp", "ses", "file"] = "file"
    smtp_url: SecretStr | None = None
    mail_from: str = "Outreach <outreach@localhost>"
    sender_postal_address: str = "Outreach, 1 Example Street, Springfield"
    unsubscribe_mailto: str | None = None
    # Comma-separated SNS topic ARNs whose SES notifications are accepted (empty: any verified one).
    sns_topic_arns: str = ""

    smtp_pool_size: int = Field(default=4, ge=1, le=32)
    smtp_messages_per_connection: int = Field(default=100, ge=1)
    send_batch_size: int = Field(default=200, ge=1, le=5000)
    send_lease_seconds: int = Field(default=300, ge=10)
    send_max_attempts: int = Field(default=5, ge=1, le=20)
    send_rate_per_second: float = Field(default=14.0, ge=0)  # 0: no ceiling
    send_domain_spacing_seconds: float = Field(default=2.0, ge=0)
    send_retry_base_seconds: int = Field(default=60, ge=1)
    # How long a mailbox whose login was refused waits before it is tried again.
    mailbox_retry_seconds: int = Field(default=900, ge=1)

    imap_timeout: float = Field(default=30.0, gt=0)
    # How much of each inbound message is read: enough for any reply or bounce report.
    imap_fetch_bytes: int = Field(default=1024 * 1024, ge=16 * 1024)
    imap_batch_size: int = Field(default=100, ge=1, le=1000)

    work_lease_seconds: int = Field(default=300, ge=5)
    work_max_attempts: int = Field(default=3, ge=1, le=20)
    work_retry_base_seconds: int = Field(default=30, ge=0)
    drain_grace_seconds: int = Field(default=60, ge=0)
    drain_concurrency: int = Field(default=4, ge=1, le=32)
    # How long a drain keeps taking new rows; a row started before then is finished.
    drain_budget_seconds: int = Field(default=240, ge=1)

    # Before enrolling a found address: its domain's MX (or address) record, through these
    # nameservers (host or host:port, comma-separated; unset: the system's).
    email_check_deliverability: bool = True
    dns_nameservers: str | None = None
    # The sending domains' SPF and DMARC before cold mail leaves (shared/mailboxes/domains.py):
    # enforce holds a mailbox whose domain lacks either, warn only records it, off checks nothing.
    sender_domain_check: Literal["enforce", "warn", "off"] = "enforce"

    allow_private_network: bool = False
    crawler_user_agent: str = "OutreachBot/1.0 (+https://github.com/outreach-oss/outreach; contact discovery)"
    fetch_connect_timeout: float = Field(default=5.0, gt=0)
    fetch_read_timeout: float = Field(default=10.0, gt=0)
    fetch_deadline: float = Field(default=20.0, gt=0)
    crawl_extra_pages: int = Field(default=3, ge=0, le=10)
    max_body_bytes: int = Field(default=256 * 1024, ge=1024)
    # Origins of browser apps allowed to call create_campaign (comma-separated, or *). Safe as a
    # default: the caller authenticates with a bearer token, never with cookies.
    cors_allowed_origins: str = "*"

    # deliver_events: deliveries at once, at most events_per_endpoint of them to one endpoint;
    # seconds one delivery may take, whole; how much of an answer is read; the first retry's
    # delay (later ones follow Standard Webhooks' schedule, x60, x360, ...) and the last
    # attempt's age; how long one call keeps taking new deliveries.
    events_concurrency: int = Field(default=16, ge=1, le=128)
    events_per_endpoint: int = Field(default=4, ge=1, le=64)
    events_timeout: float = Field(default=10.0, gt=0, le=60)
    events_response_bytes: int = Field(default=64 * 1024, ge=1024)
    events_retry_base_seconds: float = Field(default=5.0, ge=0)
    events_retry_hours: float = Field(default=24.0, gt=0, le=72)
    events_budget_seconds: int = Field(default=240, ge=1)

    # Set by Cloud Run and Cloud Functions (2nd gen): the process is deployed, not local.
    k_service: str | None = None

    @field_validator("dns_nameservers")
    @classmethod
    def _nameserver_addresses(cls, value: str | None) -> str | None:
        parse_nameservers(value)
        return value

    @property
    def nameservers(self) -> list[tuple[str, int]]:
        return parse_nameservers(self.dns_nameservers)

    @field_validator("public_base_url", "supabase_url", "llm_base_url", "search_base_url")
    @classmethod
    def _no_trailing_slash(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value else value

    @property
    def deployed(self) -> bool:
        return bool(self.k_service)

    @property
    def outbox_dir(self) -> Path:
        return self.data_dir / "outbox"


def parse_nameservers(value: str | None) -> list[tuple[str, int]]:
    """DNS_NAMESERVERS: IP addresses, each with an optional port: 10.0.0.2, 10.0.0.2:5353,
    2001:db8::53, [2001:db8::53]:5353."""
    servers = []
    for item in (value or "").split(","):
        item = item.strip()
        if not item:
            continue
        host, port = item, "53"
        if item.startswith("["):
            host, bracket, rest = item[1:].partition("]")
            port = (rest.removeprefix(":") or "53") if bracket else "no port"
        elif item.count(":") == 1:
            host, port = item.split(":")
        try:
            ipaddress.ip_address(host)
            number = int(port)
        except ValueError:
            raise ValueError(f"{item!r} is not an IP address with an optional port") from None
        if not 0 < number < 65536:
            raise ValueError(f"{item!r} has a port outside 1 to 65535")
        servers.append((host, number))
    return servers


def _local_secret(settings: Settings, name: str) -> SecretStr:
    """A secret kept under .data/ so every local process (functions, listener, timer) shares it."""
    path = settings.data_dir / "local_secrets.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        known = json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        known = {}
    if name not in known:
        known[name] = secrets.token_urlsafe(32)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(known))
        tmp.replace(path)
    return SecretStr(known[name])


MIN_DEPLOYED_SECRET_BYTES = 32


def _check_secrets(settings: Settings) -> None:
    """Empty means unset. Deployed: the two secrets are required and none is short (an empty
    WEBHOOK_SECRET would let any caller in, an empty UNSUBSCRIBE_SECRET anyone mint links).
    Local runs generate what is missing."""
    for name in ("webhook_secret", "unsubscribe_secret", "supabase_jwt_secret"):
        value = getattr(settings, name)
        if value is not None and not value.get_secret_value():
            setattr(settings, name, None)
    previous = [k for k in settings.unsubscribe_previous_secrets.split(",") if k.strip()]
    for name in ("webhook_secret", "unsubscribe_secret"):
        if getattr(settings, name) is None:
            if settings.deployed:
                raise ConfigError(f"invalid configuration: {name.upper()} is required when deployed")
            setattr(settings, name, _local_secret(settings, name))
    if not settings.deployed:
        return
    for name in ("webhook_secret", "unsubscribe_secret"):
        if len(getattr(settings, name).get_secret_value().encode()) < MIN_DEPLOYED_SECRET_BYTES:
            raise ConfigError(
                f"invalid configuration: {name.upper()} must be at least {MIN_DEPLOYED_SECRET_BYTES} bytes"
            )
    if any(len(key.strip().encode()) < MIN_DEPLOYED_SECRET_BYTES for key in previous):
        raise ConfigError(
            "invalid configuration: every key in UNSUBSCRIBE_PREVIOUS_SECRETS must be at least "
            f"{MIN_DEPLOYED_SECRET_BYTES} bytes"
        )


def load_settings() -> Settings:
    try:
        settings = Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']).upper()}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"invalid configuration: {problems}") from None
    _check_secrets(settings)
    return settings


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()

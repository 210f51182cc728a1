"""Search results to prospect sites: normalized URLs, one per host, minus hosts that are not
prospects (social networks, directories, marketplaces)."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from shared.core.config import get_settings

# Not prospects: their pages list businesses but belong to someone else. Override the whole
# list with SEARCH_SKIP_HOSTS (comma-separated); a host matches itself and its subdomains.
DEFAULT_SKIP_HOSTS = (
    "facebook.com",
    "instagram.com",
    "twitter.com",
    "x.com",
    "linkedin.com",
    "youtube.com",
    "tiktok.com",
    "pinterest.com",
    "reddit.com",
    "threads.net",
    "wikipedia.org",
    "google.com",
    "goo.gl",
    "apple.com",
    "yelp.com",
    "tripadvisor.com",
    "yellowpages.com",
    "foursquare.com",
    "bbb.org",
    "angi.com",
    "thumbtack.com",
    "nextdoor.com",
    "mapquest.com",
    "manta.com",
    "crunchbase.com",
    "glassdoor.com",
    "indeed.com",
    "amazon.com",
    "ebay.com",
    "etsy.com",
    "alibaba.com",
    "aliexpress.com",
    "walmart.com",
    "groupon.com",
    "classpass.com",
    "mindbodyonline.com",
    "booking.com",
    "airbnb.com",
    "expedia.com",
    "medium.com",
    "substack.com",
    "wordpress.com",
    "blogspot.com",
    "wix.com",
    "squarespace.com",
)


def skip_hosts() -> tuple[str, ...]:
    configured = get_settings().search_skip_hosts
    if configured is None:
        return DEFAULT_SKIP_HOSTS
    return tuple(h.strip().lower().lstrip(".") for h in configured.split(",") if h.strip())


def normalize(url: str) -> str | None:
    """Scheme and host lower-cased, default port and fragment dropped; None if not http(s)."""
    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").rstrip(".")
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not host:
        return None
    scheme = parts.scheme.lower()
    netloc = f"[{host}]" if ":" in host else host
    if port and not ((scheme == "http" and port == 80) or (scheme == "https" and port == 443)):
        netloc += f":{port}"
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))


def site_key(url: str) -> str:
    """The host (with its port) a URL belongs to: one scrape result per site."""
    parts = urlsplit(url)
    return parts.netloc.lower().removeprefix("www.")


def is_skipped(url: str, hosts: tuple[str, ...] | None = None) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return any(host == h or host.endswith("." + h) for h in (hosts if hosts is not None else skip_hosts()))


def prospect_sites(urls: list[str]) -> list[str]:
    """Normalized, deduplicated per site, skip list applied, in the order given."""
    hosts = skip_hosts()
    seen: set[str] = set()
    sites = []
    for raw in urls:
        url = normalize(raw)
        if url is None or is_skipped(url, hosts):
            continue
        key = site_key(url)
        if key not in seen:
            seen.add(key)
            sites.append(url)
    return sites

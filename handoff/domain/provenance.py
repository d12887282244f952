"""Who may claim what: each credential speaks only for its own source.

HubSpot's and Salesforce's webhooks are authenticated as those CRMs, so a lead they send may
name its record there, be written back to it, and be touched by activity logged on it. The
generic webhook's secret and token are shared by every other sender, so a generic lead can
neither take an adapter's name (and with it an adapter's lead ids) nor make Handoff write to a
CRM record it merely names, unless ops trust its source in config.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from urllib.parse import urlsplit

# The sources the CRM adapters stamp on their leads; lead ids are derived from the source, so
# only the adapter may use its name (see lead_id_for).
ADAPTER_SOURCES = frozenset({"hubspot", "salesforce"})


def reserved_source(source: str) -> str | None:
    """Why a generic delivery may not use ``source``, or None when it may."""
    if source.strip().lower() in ADAPTER_SOURCES:
        return (
            f"{source[:20]!r} is reserved for Handoff's {source.strip().lower()} webhook; "
            "name your own sender (website, marketo, ...)"
        )
    return None


def vouched_sources(system: str, trusted: Collection[str]) -> frozenset[str]:
    """The lead sources whose record ids in ``system`` Handoff believes: the CRM's own webhook,
    plus the generic sources ops trust in [crm_sync] write_back_sources."""
    return frozenset({system.lower(), *(t.lower() for t in trusted)})


def write_back_refusal(
    source: str, system: str, record_id: str | None, trusted: Collection[str]
) -> str | None:
    """Why Handoff will not write to this lead's CRM record, or None when it may."""
    if source.lower() in vouched_sources(system, trusted):
        return None
    return (
        f"{system} record {str(record_id)[:40]} was named by a {source[:40]!r} delivery, not by "
        f"{system}'s own webhook; [crm_sync] write_back_sources does not trust {source[:40]!r}"
    )


# The CRMs' own hosts. HubSpot serves its app from app.hubspot.com and regional app-<region>
# hosts (app-eu1...); Salesforce from My Domain and Lightning hosts under these two domains.
_CRM_HOSTS = {
    "hubspot": re.compile(r"app(-[a-z0-9]+)?\.hubspot\.com"),
    "salesforce": re.compile(r"([a-z0-9-]+\.)+(salesforce|force)\.com"),
}
# What a URL never needs and a browser reads differently from a parser: whitespace, control
# characters, and a backslash (which browsers take for a slash, moving the host).
_UNSAFE = re.compile(r"[\s\x00-\x1f\x7f\\]")


def _host_allowed(host: str, patterns: Collection[str]) -> bool:
    for allowed in (p.lower() for p in patterns):
        if host == allowed or (allowed.startswith("*.") and host.endswith(allowed[1:])):
            return True
    return False


def crm_link(
    system: str, url: str | None, *, instance_url: str = "", hosts: Collection[str] = ()
) -> str | None:
    """``url`` when it is an https link to the CRM's own host, else None (the brief then shows no
    CRM button). HubSpot's and Salesforce's hosts are known, plus the configured Salesforce
    instance; any other system's link needs its host in [adapters] crm_link_hosts."""
    if not url or _UNSAFE.search(url):
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if (
        parts.scheme.lower() != "https"
        or not host
        or parts.username
        or parts.password
        or port not in (None, 443)
    ):
        return None
    known = _CRM_HOSTS.get(system.lower())
    if known is not None:
        instance = (urlsplit(instance_url).hostname or "").lower() if system.lower() == "salesforce" else ""
        return url if known.fullmatch(host) or (instance and host == instance) else None
    return url if _host_allowed(host, hosts) else None

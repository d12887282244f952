"""Every credential Handoff uses, defined once.

In AWS each is a Secrets Manager secret named ``<HANDOFF_SECRET_PREFIX><name>``,
created by the stack. Locally ``handoff serve`` seeds them from the environment
variable beside each name.
"""

from __future__ import annotations

from typing import NamedTuple


class SecretSpec(NamedTuple):
    name: str
    env_var: str
    description: str
    generate: bool  # the stack can generate a random value (vs. one ops must paste in)


GENERIC_SECRET = SecretSpec(
    "generic-secret", "HANDOFF_GENERIC_SECRET", "HMAC secret for /webhooks/generic", True
)
GENERIC_TOKEN = SecretSpec(
    "generic-token", "HANDOFF_GENERIC_TOKEN", "Bearer token for senders that cannot sign", True
)
API_KEY = SecretSpec("api-key", "HANDOFF_API_KEY", "x-api-key for the lead and admin APIs", True)
LINK_KEY = SecretSpec("link-key", "HANDOFF_LINK_KEY", "Signs one-click disposition links", True)
HUBSPOT_APP_SECRET = SecretSpec(
    "hubspot-app-secret", "HANDOFF_HUBSPOT_APP_SECRET", "HubSpot app client secret", False
)
HUBSPOT_TOKEN = SecretSpec(
    "hubspot-token", "HANDOFF_HUBSPOT_TOKEN", "HubSpot private-app token for the CRM API", False
)
SALESFORCE_TOKEN = SecretSpec(
    "salesforce-token", "HANDOFF_SALESFORCE_TOKEN", "Token Salesforce sends as ?token=", True
)
SALESFORCE_ORG_IDS = SecretSpec(
    "salesforce-org-ids", "HANDOFF_SALESFORCE_ORG_IDS", "Allowed 18-character org ids", False
)

SALESFORCE_CLIENT_ID = SecretSpec(
    "salesforce-client-id",
    "HANDOFF_SALESFORCE_CLIENT_ID",
    "Connected app consumer key (Account reads, CRM write-back)",
    False,
)
SALESFORCE_CLIENT_SECRET = SecretSpec(
    "salesforce-client-secret",
    "HANDOFF_SALESFORCE_CLIENT_SECRET",
    "Connected app consumer secret (Account reads, CRM write-back)",
    False,
)

SLACK_WEBHOOK = SecretSpec(
    "slack-webhook", "HANDOFF_SLACK_WEBHOOK", "The team's Slack incoming-webhook URL (optional)", False
)

# Keys the console's CSRF tokens (an HMAC of the session cookie): generated, never pasted in.
CONSOLE_CSRF = SecretSpec("console-csrf", "HANDOFF_CONSOLE_CSRF", "Signs the ops console's CSRF tokens", True)

ALL_SECRETS = (
    GENERIC_SECRET,
    GENERIC_TOKEN,
    API_KEY,
    LINK_KEY,
    HUBSPOT_APP_SECRET,
    HUBSPOT_TOKEN,
    SALESFORCE_TOKEN,
    SALESFORCE_ORG_IDS,
    SALESFORCE_CLIENT_ID,
    SALESFORCE_CLIENT_SECRET,
    SLACK_WEBHOOK,
    CONSOLE_CSRF,
)

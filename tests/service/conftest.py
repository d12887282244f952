"""Fakes shared by the service tests."""

from __future__ import annotations

import pytest

from tests.conftest import rep
from tests.fakes import FakePorts


@pytest.fixture
def crm_ports(monkeypatch: pytest.MonkeyPatch) -> FakePorts:
    """In-memory ports with a public URL (so briefs carry outcome links), rep r1 who owns CRM
    records in HubSpot (71) and Salesforce, and the sample Salesforce org allowed."""
    monkeypatch.setenv("HANDOFF_PUBLIC_BASE_URL", "https://handoff.test")
    from handoff.deploy import settings

    settings.reset()
    fake = FakePorts()
    fake.reps.put(rep("r1", crm_owner_ids=["71", "0055g0000USER01AAA"]))
    fake.secrets |= {"salesforce-org-ids": "00D5g000004ABCDEAZ"}
    return fake

"""The local CRM fakes, served over HTTP for the real clients' tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from handoff.local.fake_hubspot import FakeHubSpot
from handoff.local.fake_salesforce import FakeSalesforce
from tests.conftest import EXAMPLES


@pytest.fixture
def hubspot() -> Iterator[FakeHubSpot]:
    fake = FakeHubSpot(EXAMPLES / "hubspot" / "crm-objects.json", token="pat-1").start()
    yield fake
    fake.stop()


@pytest.fixture
def salesforce() -> Iterator[FakeSalesforce]:
    fake = FakeSalesforce("client-1", "secret-1").start()
    yield fake
    fake.stop()


@pytest.fixture
def salesforce_org() -> Iterator[FakeSalesforce]:
    """An org without state and country picklists, seeded with the example Account."""
    fake = FakeSalesforce(
        "client-1", "secret-1", data_file=EXAMPLES / "salesforce" / "crm-objects.json"
    ).start()
    yield fake
    fake.stop()

"""The ops console in a real headless Chromium (Playwright, the system browser), against
`handoff serve` in its own process: one stack and one browser for the whole tier.

Fixtures:
- ``console``: the running stack (its URL, the local sign-ins it printed, an API client).
- ``browser``: headless Chromium; each test gets fresh contexts (no cookies shared).
- ``signed_in(role, username=None)``: a page signed in as ``revops`` or a ``manager`` (the first
  manager in examples/reps.csv unless ``username`` names another), on /console.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from handoff.local.chromium import chromium
from handoff.local.client import HandoffClient
from handoff.local.console_users import ConsoleUser
from handoff.local.serve_process import serving

ROOT = Path(__file__).resolve().parents[2]
BROWSER_DIR = Path(__file__).resolve().parent
# Fixed secrets for the stack (the rest are random): the client signs webhooks with them.
SECRETS = {
    "HANDOFF_GENERIC_SECRET": "browser-generic-secret",
    "HANDOFF_GENERIC_TOKEN": "browser-generic-token",
    "HANDOFF_API_KEY": "browser-api-key",
}
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]


def pytest_itemcollected(item: pytest.Item) -> None:
    """`-m browser` selects this tier. (Not an xdist_group: pytest-xdist 3.8's loadgroup renames
    ``item._nodeid``, which pytest 9 no longer reads, so the group has no effect; each worker
    that draws a browser test starts its own stack, about 7 s.)"""
    if BROWSER_DIR in item.path.parents:
        item.add_marker(pytest.mark.browser)


@dataclass
class Console:
    url: str  # the local API's base URL; the console is under /console
    users: list[ConsoleUser]
    client: HandoffClient
    aws_url: str
    log: Path
    pages: list[Any] = field(default_factory=list)

    def user(self, role: str, username: str | None = None) -> ConsoleUser:
        for user in self.users:
            if user.role == role and (username is None or user.username == username):
                return user
        raise LookupError(f"no local {role} user {username or ''} (have {[u.username for u in self.users]})")


@pytest.fixture(scope="session")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    with serving(tmp_path_factory.mktemp("console"), SECRETS, sla_check_every=5) as running:
        assert {u.role for u in running.users} == {"revops", "manager"}, running.log.read_text()
        yield Console(
            url=running.url,
            users=list(running.users),
            client=HandoffClient.for_secrets(running.url, SECRETS),
            aws_url=running.aws_url,
            log=running.log,
        )
    # The printed sign-in block aside, no password and no session token reaches the log.
    logged = [line for line in running.log.read_text().splitlines() if line.startswith("{")]
    leaks = [line for line in logged if any(u.password in line for u in running.users) or "eyJ" in line]
    assert leaks == [], f"a password or token in {len(leaks)} log line(s)"


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def new_page(browser: Any, console: Console) -> Iterator[Callable[[], Any]]:
    """Fresh browser contexts (no cookies), closed after the test."""
    contexts: list[Any] = []

    def make() -> Any:
        context = browser.new_context(base_url=console.url)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def sign_in(page: Any, user: ConsoleUser) -> None:
    """Sign in through the form, as a person does."""
    page.goto("/console/login")
    page.get_by_label("Email").fill(user.username)
    page.get_by_label("Password").fill(user.password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/console$"))


@pytest.fixture
def signed_in(console: Console, new_page: Callable[[], Any]) -> Callable[..., Any]:
    def make(role: str, username: str | None = None) -> Any:
        page = new_page()
        sign_in(page, console.user(role, username))
        return page

    return make

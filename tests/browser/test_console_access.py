"""What issue 21 asks of every console page besides its content: it reads on a phone, every field
has a label, text meets WCAG AA contrast, and a person with only a keyboard can sign in."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.browser.conftest import Console, sign_in
from tests.conftest import sample

PHONE = {"width": 375, "height": 740}  # a small phone's CSS pixels

# Each text-bearing element, its text colour against the first opaque background behind it
# (WCAG 2.x relative luminance); AA asks 4.5:1, or 3:1 for large text (24 px, or 18.66 px bold).
LOW_CONTRAST = """() => {
  const rgba = s => (s.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const c = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * c(r) + 0.7152 * c(g) + 0.0722 * c(b);
  };
  const background = el => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgba(getComputedStyle(e).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0)) return c;
    }
    return [255, 255, 255];
  };
  const low = [];
  for (const el of document.body.querySelectorAll('*')) {
    const text = [...el.childNodes].filter(n => n.nodeType === 3).map(n => n.textContent.trim()).join('');
    const box = el.getBoundingClientRect();
    if (!text || box.width === 0 || box.right < 0 || box.bottom < 0) continue;
    const style = getComputedStyle(el);
    const [a, b] = [lum(rgba(style.color)), lum(background(el))];
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const size = parseFloat(style.fontSize), bold = parseInt(style.fontWeight) >= 700;
    const need = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
    if (ratio < need) low.push(`${el.tagName} "${text.slice(0, 30)}" ${ratio.toFixed(2)}:1`);
  }
  return low;
}"""

UNLABELLED = """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
  .filter(f => !(f.labels && f.labels.length) && !f.getAttribute('aria-label'))
  .map(f => f.name || f.id || f.outerHTML.slice(0, 60))"""

CHECKS = {"unlabelled fields": UNLABELLED, "text below AA contrast": LOW_CONTRAST}


@pytest.fixture(scope="module")
def lead_id(console: Console) -> str:
    body = {**sample("01"), "event_id": "browser-access"}
    answer = console.client.post_generic(json.dumps(body).encode())
    assert answer.status == 202, answer.body
    return str(console.client.wait_for(str(answer.body["lead_id"]), {"notified"})["lead_id"])


@pytest.fixture
def phone(browser: Any, console: Console) -> Iterator[Any]:
    context = browser.new_context(base_url=console.url, viewport=PHONE, is_mobile=True, has_touch=True)
    context.set_default_timeout(10_000)
    page = context.new_page()
    sign_in(page, console.user("revops"))
    yield page
    context.close()


def _pages(lead_id: str) -> list[str]:
    return ["/console", f"/console/leads/{lead_id}", "/console/reps", "/console/route", "/console/results"]


def test_every_page_fits_a_phone_without_sideways_scrolling(phone: Any, lead_id: str) -> None:
    wide = {}
    for path in _pages(lead_id):
        assert phone.goto(path).status == 200, path
        # Wide tables scroll inside their own box (.table-wrap); the page itself must not.
        # Measured against the phone's width, not innerWidth: a mobile browser widens its layout
        # viewport (zooming out) to fit a page that is too wide.
        overflow = phone.evaluate("() => document.documentElement.scrollWidth") - PHONE["width"]
        if overflow > 0:
            wide[path] = overflow
    assert wide == {}, f"pages wider than a {PHONE['width']} px phone, by px: {wide}"


def _unlabelled_and_low_contrast(page: Any, name: str) -> dict[str, list[str]]:
    found = {f"{name}: {check}": page.evaluate(script) for check, script in CHECKS.items()}
    return {where: what for where, what in found.items() if what}


def test_every_field_is_labelled_and_all_text_meets_aa_contrast(
    signed_in: Callable[..., Any], new_page: Callable[[], Any], lead_id: str
) -> None:
    login = new_page()
    login.goto("/console/login")
    problems = _unlabelled_and_low_contrast(login, "/console/login")
    page = signed_in("revops")
    for path in _pages(lead_id):
        page.goto(path)
        problems.update(_unlabelled_and_low_contrast(page, path))
    assert problems == {}


def test_a_keyboard_alone_signs_in(console: Console, new_page: Callable[[], Any]) -> None:
    user = console.user("revops")
    page = new_page()
    page.goto("/console/login")
    focused: list[str] = []
    # The email field has autofocus; from anywhere else, Tab reaches it past the skip link and brand.
    for _ in range(6):
        focused.append(page.evaluate("() => document.activeElement.id || document.activeElement.tagName"))
        if focused[-1] == "username":
            break
        page.keyboard.press("Tab")
    assert focused[-1] == "username", focused
    page.keyboard.type(user.username)
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.type") == "password"
    page.keyboard.type(user.password)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/console$"))
    assert page.get_by_role("navigation", name="Console").is_visible()

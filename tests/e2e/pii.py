"""What must never reach a log line: contacts' and reps' emails, phone numbers and names.

The names are every first and last name in the sample payloads the e2e suite sends, so the
scan knows exactly what it is looking for.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
PHONE = re.compile(r"\+\d[\d ()-]{8,}\d")
NAME_KEYS = {"first_name", "last_name", "firstname", "lastname", "FirstName", "LastName"}


def _names_in(value: object) -> Iterable[str]:
    if isinstance(value, dict):
        for key, inner in value.items():
            if key in NAME_KEYS and isinstance(inner, str | dict):
                text = inner.get("value") if isinstance(inner, dict) else inner
                if isinstance(text, str):
                    yield text
            yield from _names_in(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _names_in(inner)


@cache
def sample_names() -> frozenset[str]:
    names: set[str] = set()
    for path in (ROOT / "examples").rglob("*.json"):
        names.update(_names_in(json.loads(path.read_text())))
    for path in (ROOT / "examples").rglob("*.xml"):
        names.update(re.findall(r"<sf:(?:FirstName|LastName)>([^<]+)<", path.read_text()))
    for path in (ROOT / "examples").glob("reps.csv"):
        for line in path.read_text().splitlines()[1:]:
            names.update(line.split(",")[1].split())
    # Words a log may carry for other reasons (company or persona names, generic nouns) are not names.
    return frozenset(n for n in names if len(n) >= 3 and " " not in n and n[0].isupper())


def personal_data_in(lines: Iterable[str]) -> list[str]:
    found = []
    names = sample_names()
    for line in lines:
        words = set(re.findall(r"[A-Za-z][A-Za-z'-]+", line))
        if EMAIL.search(line) or PHONE.search(line) or words & names:
            found.append(line[:300])
    return found

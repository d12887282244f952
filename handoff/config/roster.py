"""Reps and accounts from CSV files (examples/reps.csv and examples/accounts.csv show the columns),
and reps back out as CSV in the same columns.

Every row is validated; an error names the file, the line, the field and the problem.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from handoff.domain.account import Account
from handoff.domain.clock import zone
from handoff.domain.lead import email_address
from handoff.domain.rep import Rep
from handoff.errors import ConfigError

M = TypeVar("M", bound=BaseModel)

REP_COLUMNS = (
    "rep_id", "name", "email", "manager_email", "pools", "weight", "capacity", "active", "timezone",
    "working_hours", "daily_cap", "ooo_until", "crm_owner_ids", "slack_secret", "country", "region",
)  # fmt: skip
LIST_COLUMNS = {"pools", "crm_owner_ids"}  # ";"-separated in the file
ACCOUNT_COLUMNS = ("domain", "owner", "name")
TRUE, FALSE = {"true", "yes", "1", "y"}, {"false", "no", "0", "n"}


def _rows(file: Path, columns: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    try:
        text = file.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{file}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    reader = csv.reader(text.splitlines())
    rows: list[tuple[int, dict[str, str]]] = []
    try:
        header = [name.strip() for name in next(reader, [])]
        unknown = sorted(set(header) - set(columns))
        if unknown:
            raise ConfigError(
                f"{file}:1: unknown column(s) {', '.join(unknown)}; expected {', '.join(columns)}"
            )
        twice = sorted({name for name in header if header.count(name) > 1})
        if twice:
            raise ConfigError(f"{file}:1: column(s) {', '.join(twice)} appear more than once")
        for values in reader:
            if not any(v.strip() for v in values):
                continue  # a blank line
            # line_num is the line the row ends on (a quoted value may span lines).
            if len(values) > len(header):
                extra = ", ".join(repr(v) for v in values[len(header) :])
                raise ConfigError(
                    f"{file}:{reader.line_num}: column {len(header) + 1} (after "
                    f"{header[-1] if header else 'no header'}): {extra} is a value past the header's "
                    f"{len(header)} columns; quote a value that holds a comma"
                )
            rows.append((reader.line_num, dict(zip(header, values, strict=False))))
    except csv.Error as exc:
        raise ConfigError(f"{file}:{reader.line_num}: not valid CSV: {exc}") from exc
    return rows


def _load(file: Path, columns: tuple[str, ...], model: type[M]) -> list[tuple[int, M]]:
    loaded = []
    for line, row in _rows(file, columns):
        values: dict[str, Any] = {}
        for key, raw in row.items():
            text = raw.strip()
            if not text:
                continue
            values[key] = [p.strip() for p in text.split(";") if p.strip()] if key in LIST_COLUMNS else text
        if "active" in values:
            flag = values["active"].lower()
            if flag not in TRUE | FALSE:
                raise ConfigError(f"{file}:{line}: active: {values['active']!r} is not true or false")
            values["active"] = flag in TRUE
        try:
            loaded.append((line, model.model_validate(values)))
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise ConfigError(f"{file}:{line}: {problems}") from exc
    return loaded


def rep_problems(rep: Rep) -> list[str]:
    """What a rep may hold but a handoff cannot use, as "field: problem": a brief to an address
    that is not one, or hours read in UTC because the time zone is misspelt."""
    problems = []
    for field in ("email", "manager_email"):
        address = getattr(rep, field)
        if address:
            try:
                email_address(address)
            except ValueError as exc:
                problems.append(f"{field}: {address!r} is not an email address: {exc}")
    if zone(rep.timezone) is None:
        problems.append(f"timezone: {rep.timezone!r} is not an IANA time zone (e.g. America/Chicago)")
    return problems


def load_reps_csv(path: str | Path) -> list[Rep]:
    reps: list[Rep] = []
    first_seen: dict[str, int] = {}
    for line, rep in _load(Path(path), REP_COLUMNS, Rep):
        problems = rep_problems(rep)
        if problems:
            raise ConfigError(f"{path}:{line}: {'; '.join(problems)}")
        if rep.rep_id in first_seen:
            raise ConfigError(
                f"{path}:{line}: rep_id: {rep.rep_id} appears twice (first on line {first_seen[rep.rep_id]})"
            )
        first_seen[rep.rep_id] = line
        reps.append(rep)
    return reps


def load_accounts_csv(path: str | Path) -> list[Account]:
    return [account for _, account in _load(Path(path), ACCOUNT_COLUMNS, Account)]


def cell(value: Any) -> str:
    """One value as the file holds it (and the loader reads it back)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    if isinstance(value, float):
        return str(value).removesuffix(".0")
    if isinstance(value, datetime):
        # A first day back is a date in the file; it is kept as midnight UTC.
        moment = value.astimezone(UTC)
        return moment.date().isoformat() if moment.time() == time(0) else moment.isoformat()
    return str(value)


def dump_reps_csv(reps: Iterable[Rep]) -> str:
    """The reps in the columns load_reps_csv reads, so an export imports back unchanged."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(REP_COLUMNS)
    for rep in reps:
        writer.writerow([cell(getattr(rep, column, None)) for column in REP_COLUMNS])
    return out.getvalue()

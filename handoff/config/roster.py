"""Reps and accounts from CSV files (examples/reps.csv and examples/accounts.csv show the columns).

Every row is validated; an error names the file, the line and the problem.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from handoff.domain.account import Account
from handoff.domain.rep import Rep
from handoff.errors import ConfigError

M = TypeVar("M", bound=BaseModel)

REP_COLUMNS = (
    "rep_id", "name", "email", "manager_email", "pools", "weight", "capacity", "active", "timezone",
    "working_hours", "daily_cap", "ooo_until", "crm_owner_ids", "slack_secret",
)  # fmt: skip
LIST_COLUMNS = {"pools", "crm_owner_ids"}  # ";"-separated in the file
ACCOUNT_COLUMNS = ("domain", "owner", "name")


def _rows(file: Path, columns: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    try:
        reader = csv.DictReader(file.read_text(encoding="utf-8-sig").splitlines())
        rows = list(reader)
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read: {exc.strerror}") from exc
    unknown = set(reader.fieldnames or []) - set(columns)
    if unknown:
        raise ConfigError(
            f"{file}:1: unknown column(s) {', '.join(sorted(unknown))}; expected {', '.join(columns)}"
        )
    return list(enumerate(rows, start=2))


def _load(file: Path, columns: tuple[str, ...], model: type[M]) -> list[M]:
    loaded = []
    for line, row in _rows(file, columns):
        values: dict[str, Any] = {}
        for key, raw in row.items():
            text = (raw or "").strip()
            if not text or key is None:
                continue
            values[key] = [p.strip() for p in text.split(";") if p.strip()] if key in LIST_COLUMNS else text
        if "active" in values:
            values["active"] = values["active"].lower() in {"true", "yes", "1", "y"}
        try:
            loaded.append(model.model_validate(values))
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise ConfigError(f"{file}:{line}: {problems}") from exc
    return loaded


def load_reps_csv(path: str | Path) -> list[Rep]:
    reps = _load(Path(path), REP_COLUMNS, Rep)
    seen: set[str] = set()
    for rep in reps:
        if rep.rep_id in seen:
            raise ConfigError(f"{path}: rep_id {rep.rep_id} appears twice")
        seen.add(rep.rep_id)
    return reps


def load_accounts_csv(path: str | Path) -> list[Account]:
    return _load(Path(path), ACCOUNT_COLUMNS, Account)

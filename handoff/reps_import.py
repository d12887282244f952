"""Read reps from a CSV file (examples/reps.csv shows the columns)."""

from __future__ import annotations

import csv
from pathlib import Path

from pydantic import ValidationError

from handoff.domain.route import Rep
from handoff.errors import ConfigError

COLUMNS = (
    "rep_id",
    "name",
    "email",
    "manager_email",
    "pools",
    "weight",
    "capacity",
    "active",
    "timezone",
)


def load_reps_csv(path: str | Path) -> list[Rep]:
    file = Path(path)
    try:
        rows = list(csv.DictReader(file.read_text(encoding="utf-8").splitlines()))
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read reps: {exc.strerror}") from exc
    reps = []
    for line, row in enumerate(rows, start=2):
        unknown = set(row) - set(COLUMNS)
        if unknown:
            raise ConfigError(f"{file}:{line}: unknown column(s) {', '.join(sorted(map(str, unknown)))}")
        try:
            reps.append(
                Rep(
                    rep_id=row["rep_id"],
                    name=row.get("name") or None,
                    email=row["email"],
                    manager_email=row.get("manager_email") or None,
                    pools=[p.strip() for p in (row.get("pools") or "").split(";") if p.strip()],
                    weight=float(row.get("weight") or 1),
                    capacity=int(row.get("capacity") or 10),
                    active=(row.get("active") or "true").strip().lower() in {"true", "yes", "1"},
                    timezone=row.get("timezone") or "UTC",
                )
            )
        except (KeyError, ValueError, ValidationError) as exc:
            raise ConfigError(f"{file}:{line}: {exc}") from exc
    return reps

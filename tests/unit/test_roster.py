from __future__ import annotations

from pathlib import Path

import pytest

from handoff.config.roster import load_reps_csv
from handoff.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def test_example_reps_load() -> None:
    reps = {r.rep_id: r for r in load_reps_csv(ROOT / "examples" / "reps.csv")}
    assert reps["rep-ana"].pools == ["sales"]
    assert reps["rep-chloe"].capacity == 1
    assert reps["rep-dev"].active is False


def test_bad_rows_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "reps.csv"
    path.write_text("rep_id,email,capacity\nr1,a@b.co,3\nr2,b@b.co,lots\n")
    with pytest.raises(ConfigError, match=r"reps.csv:3"):
        load_reps_csv(path)


def test_unknown_columns_are_rejected(tmp_path: Path) -> None:
    path = tmp_path / "reps.csv"
    path.write_text("rep_id,email,quota\nr1,a@b.co,3\n")
    with pytest.raises(ConfigError, match="unknown column"):
        load_reps_csv(path)

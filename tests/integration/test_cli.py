from __future__ import annotations

from pathlib import Path

import pytest

from handoff import runtime
from handoff.cli import main
from tests.integration.conftest import Aws

ROOT = Path(__file__).resolve().parents[2]


def test_load_reps_writes_the_csv_into_the_reps_table(aws: Aws, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["load-reps", str(ROOT / "examples" / "reps.csv"), "--table", "handoff-reps"]) == 0
    assert "loaded 4 reps" in capsys.readouterr().out
    assert [r.rep_id for r in runtime.reps().list_all()] == ["rep-ana", "rep-ben", "rep-chloe", "rep-dev"]


def test_a_bad_reps_file_exits_2_naming_the_line(
    aws: Aws, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "reps.csv"
    bad.write_text("rep_id,email,capacity\nr1,a@b.co,many\n")
    assert main(["load-reps", str(bad), "--table", "handoff-reps"]) == 2
    assert "reps.csv:2" in capsys.readouterr().err
    assert runtime.reps().list_all() == []

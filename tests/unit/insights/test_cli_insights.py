"""`handoff history generate`, `report`, `tune` and `simulate` from the command line, on files."""

from __future__ import annotations

from pathlib import Path

import pytest

from handoff.cli import main
from tests.conftest import ROOT


def test_generate_tune_then_simulate_the_proposal(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    history = tmp_path / "history.jsonl"
    config = tmp_path / "handoff.toml"
    config.write_text((ROOT / "config" / "handoff.toml").read_text())
    assert main(["history", "generate", "--out", str(history), "--leads", "3000", "--seed", "7"]) == 0
    assert (
        main(["tune", "--history", str(history), "--config", str(config), "--out", str(tmp_path / "t")]) == 0
    )
    out = capsys.readouterr().out
    assert "Raise qualify.min_fit from 50 to 60" in out and "+min_fit = 60" in out
    proposed = tmp_path / "t" / "handoff.proposed.toml"
    assert {p.name for p in (tmp_path / "t").iterdir()} == {
        "report.json", "report.html", "handoff.proposed.toml", "handoff.toml.diff",
    }  # fmt: skip
    assert config.read_text() == (ROOT / "config" / "handoff.toml").read_text()  # auto_apply is off

    assert (
        main(["simulate", "--history", str(history), "--current", str(config), "--config", str(proposed)])
        == 0
    )
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Replayed 3000 leads (no side effects)."
    assert any(line.startswith("expected meetings") for line in lines)
    assert any(line.startswith("load rep-dan") for line in lines)


def test_auto_apply_rewrites_the_config_it_tuned(tmp_path: Path) -> None:
    history = tmp_path / "history.jsonl"
    config = tmp_path / "handoff.toml"
    config.write_text(
        (ROOT / "config" / "handoff.toml").read_text().replace("auto_apply = false", "auto_apply = true")
    )
    assert main(["history", "generate", "--out", str(history), "--leads", "3000"]) == 0
    assert (
        main(["tune", "--history", str(history), "--config", str(config), "--out", str(tmp_path / "t")]) == 0
    )
    assert "min_fit = 60" in config.read_text()


def test_report_with_a_cut_and_charts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    history = ROOT / "examples" / "history-sample.jsonl"
    html = tmp_path / "report.html"
    assert (
        main(
            [
                "report",
                "--history",
                str(history),
                "--by",
                "week",
                "--html",
                str(html),
                "--charts",
                str(tmp_path),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "Volume      60 received" in out and "By week" in out and "2026-W36" in out
    assert html.read_text().count('src="data:image/png;base64,') == 4
    assert len(list(tmp_path.glob("*.png"))) == 4


def test_a_bad_history_line_names_its_number(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    history = tmp_path / "history.jsonl"
    history.write_text((ROOT / "examples" / "history-sample.jsonl").read_text().splitlines()[0] + "\n{}\n")
    assert main(["report", "--history", str(history)]) == 2
    assert f"{history}:2: lead: Field required" in capsys.readouterr().err


def test_report_prints_pipeline_and_assignment_accuracy_with_their_cut(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from handoff.insights.history import write_jsonl
    from tests.unit.insights.test_kpis import pipeline_history

    history = tmp_path / "history.jsonl"
    write_jsonl(pipeline_history(), history)
    assert main(["report", "--history", str(history), "--by", "rep"]) == 0
    out = capsys.readouterr().out
    assert "Pipeline    2 handoffs with a deal (50%), 15,000 in 3 deals, 3,750 per handoff" in out
    assert "stage 1->2 67% (2 of 3), win rate 50% (1 won, 1 lost), average deal 7,500" in out
    assert "assignment accuracy 50% (1 flagged wrong owner, 2 misrouted in all)" in out
    assert "reassignments by cause: manual 1, sla lapsed 2" in out
    assert "routed ok" in out and "pipeline/handoff" in out
    [ana] = [line for line in out.splitlines() if line.startswith("  ana ")]
    assert ana.split()[-1] == "7,500"  # 15,000 over ana's 2 handoffs

from __future__ import annotations

from pathlib import Path

import pytest

from handoff.aws import container
from handoff.cli import main
from handoff.domain.clock import utcnow
from tests.integration.conftest import SECRETS, Aws, rep

ROOT = Path(__file__).resolve().parents[2]
REPS_CSV = str(ROOT / "examples" / "reps.csv")


def test_reps_import_list_and_set(aws: Aws, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["reps", "import", REPS_CSV]) == 0
    assert "imported 7 reps" in capsys.readouterr().out
    assert "rep-ana" in [r.rep_id for r in container.ports().reps.list_all()]
    assert (
        main(["reps", "set", "rep-ana", "--status", "ooo", "--until", "2099-02-01", "--capacity", "9"]) == 0
    )
    ana = container.ports().reps.get("rep-ana")
    assert ana is not None and ana.capacity == 9 and ana.ooo_until is not None
    capsys.readouterr()
    assert main(["reps", "list"]) == 0
    listing = capsys.readouterr().out
    assert "out of office until 2099-02-01" in listing
    assert "inactive" in listing  # rep-dev
    assert main(["reps", "set", "rep-ana", "--status", "active"]) == 0
    assert container.ports().reps.get("rep-ana").ooo_until is None  # type: ignore[union-attr]


def test_reimporting_keeps_live_counters(aws: Aws) -> None:
    assert main(["reps", "import", REPS_CSV]) == 0
    claimed = container.ports().reps.claim(
        container.ports().reps.get("rep-ana"),  # type: ignore[arg-type]
        "lead-1",
        utcnow(),
        next_vtime=4.0,
    )
    assert claimed.vtime == 4.0 and claimed.vstart is not None
    assert main(["reps", "import", REPS_CSV]) == 0
    again = container.ports().reps.get("rep-ana")
    assert again is not None and again.open_count == 1
    # The fairness clock and the pool's (the start of the rep's last exact turn) stay as routing left them.
    assert (again.vtime, again.vstart) == (claimed.vtime, claimed.vstart)


def test_admin_errors_exit_2_and_name_the_problem(
    aws: Aws, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "reps.csv"
    bad.write_text("rep_id,email,capacity\nr1,a@b.co,many\n")
    assert main(["reps", "import", str(bad)]) == 2
    assert "reps.csv:2: capacity" in capsys.readouterr().err
    assert main(["reps", "set", "ghost", "--capacity", "3"]) == 2
    assert "no rep ghost" in capsys.readouterr().err
    assert main(["reps", "set", "r1", "--status", "ooo"]) == 2
    assert "--until" in capsys.readouterr().err
    assert container.ports().reps.list_all() == []


def test_accounts_import_feeds_ownership_routing(aws: Aws, hot_lead: dict[str, object]) -> None:
    assert main(["accounts", "import", str(ROOT / "examples" / "accounts.csv")]) == 0
    aws.put_reps(rep("owner", crm_owner_ids=["71"]), rep("other"))
    _, body = aws.post_lead(hot_lead)  # northwind.example is owned by CRM owner 71
    assignment = aws.wait_status(body["lead_id"], {"notified"})["assignment"]
    assert (assignment["rep_id"], assignment["rule"]) == ("owner", "account_owner")


def test_get_reps_lists_load_and_availability(aws: Aws) -> None:
    aws.put_reps(rep("r1", capacity=3, open_count=3), rep("r2", active=False))
    status, body = aws.api("GET", "/reps", headers={"x-api-key": SECRETS["HANDOFF_API_KEY"]})
    assert status == 200
    by_id = {r["rep_id"]: r for r in body["reps"]}
    assert by_id["r1"]["unavailable_because"] == "at capacity (3/3)"
    assert by_id["r2"]["unavailable_because"] == "inactive"
    assert aws.api("GET", "/reps")[0] == 401


def test_route_explain_prints_the_decision_path(capsys: pytest.CaptureFixture[str]) -> None:
    lead = ROOT / "examples" / "webhooks" / "generic" / "02-pricing-request-fintech-director.json"
    assert main(["route", "--explain", str(lead)]) == 0
    out = capsys.readouterr().out
    assert "territory rule 'EMEA'" in out
    assert "skipped rep-eli (out of office until 2099-01-05)" in out
    assert "decision: rep-chloe (Chloe Martin) via round_robin" in out


def test_config_check(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["config", "check"]) == 0
    assert "valid" in capsys.readouterr().out
    bad = tmp_path / "bad.toml"
    bad.write_text("[routing]\ndefault_pol = 'x'\n")
    assert main(["config", "check", "--config", str(bad)]) == 2
    assert "routing.default_pol" in capsys.readouterr().err


def _reps_file(
    tmp_path: Path, *rows: str, header: str = "rep_id,name,email,manager_email,pools,capacity,timezone"
) -> str:
    path = tmp_path / "team.csv"
    path.write_text(header + "\n" + "\n".join(rows) + "\n")
    return str(path)


def test_import_dry_run_and_sync(aws: Aws, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["reps", "import", REPS_CSV]) == 0
    header, ana, ben = Path(REPS_CSV).read_text().splitlines()[:3]
    team = _reps_file(
        tmp_path,
        ana.replace(",2,6,true,", ",2,8,true,"),
        ben,
        "rep-zed,Zed Park,zed.park@example.com,maria.chen@example.com,Sales,1,5,true,Asia/Seoul,,,,",
        header=header,
    )
    before = container.ports().reps.list_all()
    capsys.readouterr()
    assert main(["reps", "import", team, "--sync", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "would update rep-ana: capacity 6 -> 8" in out
    assert "would add rep-zed (pools sales)" in out
    assert f"would deactivate rep-chloe: not in {team}" in out
    assert "rep-dev" not in out  # already inactive
    assert "(1 added, 1 updated, 1 unchanged, 4 deactivated); nothing was changed" in out
    container.reset()  # a function reads the roster afresh (it keeps one for ROSTER_SECONDS)
    assert container.ports().reps.list_all() == before

    container.ports().reps.claim(container.ports().reps.get("rep-ana"), "lead-1", utcnow())  # type: ignore[arg-type]
    assert main(["reps", "import", team, "--sync"]) == 0
    assert "imported 3 reps (1 added, 1 updated, 1 unchanged, 4 deactivated)" in capsys.readouterr().out
    container.reset()
    reps = {r.rep_id: r for r in container.ports().reps.list_all()}
    assert (reps["rep-ana"].capacity, reps["rep-ana"].open_count) == (8, 1)  # the live count is kept
    assert reps["rep-zed"].active and not reps["rep-chloe"].active and not reps["rep-maria"].active
    # Without --sync, reps missing from the file are left alone.
    assert main(["reps", "import", REPS_CSV]) == 0
    assert main(["reps", "import", team]) == 0
    assert container.ports().reps.get("rep-chloe").active  # type: ignore[union-attr]


def test_export_round_trips_with_import(aws: Aws, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from handoff.config.roster import load_reps_csv

    assert main(["reps", "import", REPS_CSV]) == 0
    exported = tmp_path / "exported.csv"
    assert main(["reps", "export", "--out", str(exported)]) == 0
    assert load_reps_csv(exported) == load_reps_csv(REPS_CSV)
    capsys.readouterr()
    assert main(["reps", "export"]) == 0
    assert capsys.readouterr().out == exported.read_text()
    assert main(["reps", "import", str(exported), "--sync", "--dry-run"]) == 0
    assert "(0 added, 0 updated, 7 unchanged, 0 deactivated)" in capsys.readouterr().out


def test_route_explain_reads_the_live_reps_table(aws: Aws, capsys: pytest.CaptureFixture[str]) -> None:
    lead = ROOT / "examples" / "webhooks" / "generic" / "02-pricing-request-fintech-director.json"
    assert main(["reps", "import", REPS_CSV]) == 0
    assert main(["reps", "set", "rep-chloe", "--status", "inactive"]) == 0
    capsys.readouterr()
    assert main(["route", "--explain", str(lead), "--live"]) == 0
    out = capsys.readouterr().out
    assert "skipped rep-chloe (inactive)" in out  # the table's state, not the CSV's
    assert "decision: rep-chloe" not in out
    assert main(["route", "--explain", str(lead), "--live", "--reps", REPS_CSV]) == 2
    assert "not both" in capsys.readouterr().err


def test_config_check_against_the_reps(aws: Aws, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "ops.toml"
    config.write_text('[[routing.rules]]\nname = "APAC"\npool = "APAC"\ncountries = ["AU"]\n')
    assert main(["config", "check", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "warning: " in out and "pool 'apac' is not defined in config" in out and "valid" in out
    assert main(["config", "check", "--config", str(config), "--reps", REPS_CSV]) == 2
    captured = capsys.readouterr()
    assert (
        f"error: {config}: routing.rules[0] ('APAC').pool: no rep in {REPS_CSV} is in pool 'apac'"
        in captured.err
    )
    assert "valid" not in captured.out
    assert (
        main(["reps", "import", _reps_file(tmp_path, "r1,Ivy,ivy@example.com,,Apac;sales,3,Asia/Tokyo")]) == 0
    )
    capsys.readouterr()
    assert main(["config", "check", "--config", str(config), "--live"]) == 0
    assert "valid with reps table" in capsys.readouterr().out


def test_long_commands_show_progress_on_a_terminal_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import io
    import sys

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    history = tmp_path / "history.jsonl"
    assert main(["history", "generate", "--out", str(history), "--leads", "120", "--weeks", "2"]) == 0
    capsys.readouterr()
    assert main(["report", "--history", str(history)]) == 0
    assert capsys.readouterr().err == ""  # not a terminal: nothing
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert main(["report", "--history", str(history)]) == 0
    shown = terminal.getvalue()
    # The read follows the file's bytes; the count follows the leads.
    assert f"reading {history}: " in shown and "(100%)" in shown and "measuring 120 leads: done in" in shown
    monkeypatch.setattr(sys, "stderr", terminal := Terminal())
    assert main(["report", "--history", str(history), "--quiet"]) == 0
    assert terminal.getvalue() == ""

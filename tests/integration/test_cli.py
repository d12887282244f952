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
    container.ports().reps.claim(container.ports().reps.get("rep-ana"), utcnow())  # type: ignore[arg-type]
    assert main(["reps", "import", REPS_CSV]) == 0
    assert container.ports().reps.get("rep-ana").open_count == 1  # type: ignore[union-attr]


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

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


def _csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "reps.csv"
    path.write_text(text)
    return path


def test_a_value_past_the_header_names_the_line_and_column(tmp_path: Path) -> None:
    path = _csv(tmp_path, "rep_id,email,pools\nr1,a@b.co,sales\nr2,b@b.co,emea,sales\n")
    with pytest.raises(ConfigError, match=r"reps\.csv:3: column 4 \(after pools\): 'sales' is a value past"):
        load_reps_csv(path)


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ("r1,a@b.co,Central,", r"reps\.csv:2: timezone: 'Central' is not an IANA time zone"),
        ("r1,ana at example.com,UTC,", r"reps\.csv:2: email: 'ana at example.com' is not an email address"),
        (
            "r1,a@b.co,UTC,boss@corp.test",
            r"reps\.csv:2: manager_email: 'boss@corp.test' is not an email address",
        ),
    ],
)
def test_time_zones_and_addresses_are_checked(tmp_path: Path, row: str, expected: str) -> None:
    path = _csv(tmp_path, f"rep_id,email,timezone,manager_email\n{row}\n")
    with pytest.raises(ConfigError, match=expected):
        load_reps_csv(path)


def test_other_row_mistakes_name_the_line_and_field(tmp_path: Path) -> None:
    # The blank line counts: line numbers are the file's own.
    with pytest.raises(ConfigError, match=r"reps\.csv:4: active: 'maybe' is not true or false"):
        load_reps_csv(_csv(tmp_path, "rep_id,email,active\nr1,a@b.co,true\n\nr2,b@b.co,maybe\n"))
    with pytest.raises(ConfigError, match=r"reps\.csv:3: rep_id: r1 appears twice \(first on line 2\)"):
        load_reps_csv(_csv(tmp_path, "rep_id,email\nr1,a@b.co\nr1,b@b.co\n"))
    with pytest.raises(ConfigError, match=r"reps\.csv:1: column\(s\) email appear more than once"):
        load_reps_csv(_csv(tmp_path, "rep_id,email,email\nr1,a@b.co,b@b.co\n"))


def test_pool_names_are_read_in_lower_case(tmp_path: Path) -> None:
    [rep] = load_reps_csv(_csv(tmp_path, "rep_id,email,pools\nr1,a@b.co,EMEA; Sales\n"))
    assert rep.pools == ["emea", "sales"]


def test_an_export_imports_back_unchanged(tmp_path: Path) -> None:
    from handoff.config.roster import dump_reps_csv

    reps = load_reps_csv(ROOT / "examples" / "reps.csv")
    reps[0] = reps[0].model_copy(update={"weight": 0.75, "daily_cap": 3, "slack_secret": "slack-ana"})
    exported = _csv(tmp_path, dump_reps_csv(reps))
    assert load_reps_csv(exported) == reps
    assert "2099-01-05" in exported.read_text()  # a first day back stays a date


def test_a_reps_country_and_region_name_their_public_holidays(tmp_path: Path) -> None:
    reps = {r.rep_id: r for r in load_reps_csv(ROOT / "examples" / "reps.csv")}
    assert (reps["rep-ana"].country, reps["rep-ana"].region) == ("US", "NY")
    path = _csv(tmp_path, "rep_id,email,country,region\nr1,a@b.co,Germany,by\nr2,b@b.co,,\n")
    by_id = {r.rep_id: r for r in load_reps_csv(path)}
    assert (by_id["r1"].country, by_id["r1"].region) == ("DE", "BY")
    assert (by_id["r2"].country, by_id["r2"].region) == (None, None)  # weekends only
    with pytest.raises(ConfigError, match=r"reps\.csv:2: country: .*'Germny' is not an ISO 3166 country"):
        load_reps_csv(_csv(tmp_path, "rep_id,email,country\nr1,a@b.co,Germny\n"))

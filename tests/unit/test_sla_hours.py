from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime

from handoff.domain.sla import WorkingTime, due_at, holiday_problem

NY = "America/New_York"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_wall_clock_by_default() -> None:
    assert due_at(at("2026-11-06T22:00:00+00:00"), 600) == at("2026-11-06T22:10:00+00:00")


def test_inside_working_hours_it_is_the_same() -> None:
    start = at("2026-11-03T15:00:00+00:00")  # Tue 10:00 New York
    assert due_at(start, 600, working_hours="09:00-17:00", timezone=NY) == at("2026-11-03T15:10:00+00:00")


def test_time_outside_hours_does_not_count() -> None:
    start = at("2026-11-03T21:55:00+00:00")  # Tue 16:55 New York: 5 minutes left today
    due = due_at(start, 600, working_hours="09:00-17:00", timezone=NY)
    assert due.astimezone(UTC) == at("2026-11-04T14:05:00+00:00")  # Wed 09:05 New York


def test_weekends_are_skipped() -> None:
    friday_evening = at("2026-11-06T23:00:00+00:00")  # Fri 18:00 New York
    due = due_at(friday_evening, 300, working_hours="09:00-17:00", timezone=NY)
    assert due.astimezone(UTC) == at("2026-11-09T14:05:00+00:00")  # Mon 09:05


def test_long_slas_span_several_days() -> None:
    start = at("2026-11-03T14:00:00+00:00")  # Tue 09:00 New York
    due = due_at(start, 3 * 8 * 3600, working_hours="09:00-17:00", timezone=NY)  # three working days
    assert due.astimezone(UTC) == at("2026-11-05T22:00:00+00:00")  # Thu 17:00


def test_unknown_zone_falls_back_to_utc() -> None:
    start = at("2026-11-03T16:59:00+00:00")
    assert due_at(start, 120, working_hours="09:00-17:00", timezone="Mars/Base") == at(
        "2026-11-04T09:01:00+00:00"
    )


# --- public holidays, by the rep's country and region ---------------------------------------------

LONDON, BERLIN = "Europe/London", "Europe/Berlin"


def test_a_us_rep_is_off_on_thanksgiving() -> None:
    start = at("2026-11-25T21:55:00+00:00")  # Wed 16:55 New York: 5 minutes left that day
    due = due_at(start, 600, working_hours="09:00-17:00", timezone=NY, country="US")
    assert due.astimezone(UTC) == at("2026-11-27T14:05:00+00:00")  # Fri 09:05: Thursday is Thanksgiving
    # Without a country only weekends are off.
    assert due_at(start, 600, working_hours="09:00-17:00", timezone=NY) == at("2026-11-26T14:05:00+00:00")


def test_a_gb_rep_is_off_on_christmas_and_the_boxing_day_substitute() -> None:
    start = at("2026-12-24T17:25:00+00:00")  # Thu 17:25 London: 5 minutes left
    due = due_at(start, 600, working_hours="09:00-17:30", timezone=LONDON, country="GB")
    # Fri 25 (Christmas), the weekend, Mon 28 (Boxing Day, a Saturday, observed): Tue 29 09:05.
    assert due == at("2026-12-29T09:05:00+00:00")


def test_regional_holidays_count_where_the_rep_works() -> None:
    start = at("2026-01-05T15:55:00+00:00")  # Mon 16:55 in Germany
    bavaria = due_at(start, 600, working_hours="09:00-17:00", timezone=BERLIN, country="DE", region="BY")
    berlin = due_at(start, 600, working_hours="09:00-17:00", timezone=BERLIN, country="DE", region="BE")
    assert bavaria == at("2026-01-07T08:05:00+00:00")  # Epiphany (Tue 6) is a holiday in Bavaria
    assert berlin == at("2026-01-06T08:05:00+00:00")  # ... and not in Berlin


def test_an_unknown_region_counts_the_country_and_an_unknown_country_weekends_only() -> None:
    thanksgiving = at("2026-11-26T15:00:00+00:00")  # Thu 10:00 New York
    assert WorkingTime(hours="09:00-17:00", timezone=NY, country="US", region="ZZ").outside(thanksgiving)
    assert WorkingTime(hours="09:00-17:00", timezone=NY, country="QQ").outside(thanksgiving) is None


def test_why_someone_is_off() -> None:
    us = WorkingTime(hours="09:00-17:00", timezone=NY, country="US")
    assert us.outside(at("2026-11-26T15:00:00+00:00")) == "Thanksgiving Day, Thu 10:00 America/New_York"
    assert us.outside(at("2026-11-28T15:00:00+00:00")) == "Sat 10:00 America/New_York"
    assert us.outside(at("2026-11-25T23:00:00+00:00")) == "Wed 18:00 America/New_York"
    assert us.outside(at("2026-11-25T15:00:00+00:00")) is None


def test_the_next_working_moment() -> None:
    us = WorkingTime(hours="09:00-17:00", timezone=NY, country="US")
    at_work = at("2026-11-25T15:00:00+00:00")
    assert us.next_open(at_work) == at_work and us.seconds_to_open(at_work) == 0
    closing = at("2026-11-25T22:00:00+00:00")  # Wed 17:00 sharp: the day is over
    assert us.next_open(closing) == at("2026-11-27T14:00:00+00:00")  # Fri 09:00, after Thanksgiving
    assert us.seconds_to_open(at("2026-11-27T13:59:59.5+00:00")) == 1  # whole seconds, rounded up


def test_hours_that_are_not_a_working_day_mean_always_at_work() -> None:
    backwards = WorkingTime(hours="17:00-09:00", timezone=NY)
    moment = at("2026-11-28T15:00:00+00:00")
    assert backwards.outside(moment) is None
    assert backwards.add(moment, 60) == at("2026-11-28T15:01:00+00:00")


def test_holidays_are_imported_only_when_a_rep_has_a_country() -> None:
    # 80-170 ms and 17 MB: a cold start that meets no rep with a country never pays for them.
    code = (
        "import sys\n"
        "import handoff.config, handoff.domain.route, handoff.service.routing, handoff.service.ladder\n"
        "from handoff.domain.sla import WorkingTime\n"
        "from datetime import datetime, UTC\n"
        "WorkingTime(timezone='America/New_York').add(datetime(2026, 11, 26, tzinfo=UTC), 60)\n"
        "assert 'holidays' not in sys.modules, 'holidays imported without a country'\n"
        "WorkingTime(timezone='America/New_York', country='US').add(datetime(2026, 11, 26, tzinfo=UTC), 60)\n"
        "assert 'holidays' in sys.modules\n"
    )
    env = {**os.environ, "POWERTOOLS_SERVICE_NAME": "t", "POWERTOOLS_METRICS_NAMESPACE": "t"}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )
    assert result.returncode == 0, result.stderr


def test_a_roster_check_can_ask_whether_a_country_and_region_have_holidays() -> None:
    assert holiday_problem("DE", "BY") is None and holiday_problem(None, None) is None
    assert "subdivision" in (holiday_problem("DE", "XX") or "")
    assert "not available" in (holiday_problem("QQ", None) or "")

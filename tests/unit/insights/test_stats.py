"""The statistics the tuning job relies on, against values computed by hand or by textbooks."""

from __future__ import annotations

import math
import random

import pytest

from handoff.insights.stats import (
    duration,
    logistic_regression,
    percentile,
    two_proportion_z,
    wilson,
    z_for_two_sided,
)


def test_percentile_interpolates_between_ranks() -> None:
    assert percentile([1, 2, 3, 4], 0.5) == 2.5
    assert percentile([10, 0, 5], 0.9) == pytest.approx(9.0)
    assert percentile([], 0.5) is None


def test_wilson_interval_matches_the_textbook_value() -> None:
    low, high = wilson(8, 10)  # 0.8 with n=10: (0.490, 0.943)
    assert low == pytest.approx(0.490, abs=0.001)
    assert high == pytest.approx(0.943, abs=0.001)
    assert wilson(0, 0) == (0.0, 1.0)
    assert wilson(0, 50)[0] == 0.0


def test_critical_z_and_the_two_proportion_test() -> None:
    assert z_for_two_sided(0.05) == pytest.approx(1.95996, abs=1e-4)
    assert z_for_two_sided(0.01) == pytest.approx(2.5758, abs=1e-4)
    # 60/100 vs 40/100: pooled p 0.5, se sqrt(0.25 * 0.02) = 0.0707 -> z = 2.828
    assert two_proportion_z(60, 100, 40, 100) == pytest.approx(2.828, abs=0.001)
    assert two_proportion_z(1, 0, 1, 1) == 0.0


def test_logistic_regression_recovers_known_coefficients() -> None:
    rng = random.Random(3)
    truth = {"a": 1.2, "b": -0.8, "c": 0.0}
    rows, outcomes = [], []
    for _ in range(6000):
        present = frozenset(f for f in truth if rng.random() < 0.4)
        log_odds = -0.5 + sum(truth[f] for f in present)
        rows.append(present)
        outcomes.append(rng.random() < 1 / (1 + math.exp(-log_odds)))
    fitted = {c.feature: c for c in logistic_regression(rows, outcomes, ["a", "b", "c"])}
    for feature, value in truth.items():
        coefficient = fitted[feature]
        assert abs(coefficient.log_odds - value) < 3 * coefficient.standard_error, feature
        assert 0.03 < coefficient.standard_error < 0.1
    assert abs(fitted["a"].z) > 10 and abs(fitted["c"].z) < 3
    low, high = fitted["a"].odds_ratio_interval()
    assert low < math.exp(1.2) < high


def test_a_duplicated_feature_is_reported_not_silently_fitted() -> None:
    rows = [frozenset({"a", "b"}), frozenset()] * 20
    with pytest.raises(ValueError, match="singular"):
        logistic_regression(rows, [True, False] * 20, ["a", "b"], ridge=0.0)


@pytest.mark.parametrize(
    ("seconds", "reads"),
    [(1.2, "1.2 s"), (6, "6 s"), (840, "14 min"), (3600, "1 h"), (22_048, "6 h 7 min"), (183_600, "2 d 3 h")],
)
def test_waits_read_in_hours_and_minutes(seconds: float, reads: str) -> None:
    assert duration(seconds) == reads

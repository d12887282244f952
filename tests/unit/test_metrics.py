"""KPI metrics carry only the tier and source dimensions (plus the outcome for dispositions)."""

from __future__ import annotations

import json

import pytest

from handoff.observability import MetricUnit, lead_metric


def test_lead_metrics_are_emf_with_small_dimensions(capsys: pytest.CaptureFixture[str]) -> None:
    lead_metric("Dispositions", 1, tier="hot", source="hubspot", outcome="meeting_set")
    lead_metric("SpeedToLead", 0.42, tier=None, source="", unit=MetricUnit.Seconds)
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    first, second = lines[-2], lines[-1]
    assert first["Dispositions"] == [1.0]
    assert (first["tier"], first["source"], first["outcome"]) == ("hot", "hubspot", "meeting_set")
    assert set(first["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0]) == {
        "tier",
        "source",
        "outcome",
        "service",
    }
    assert (second["tier"], second["source"]) == ("none", "unknown")
    assert second["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Unit"] == "Seconds"


def _emf_lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]


def test_disabled_metrics_print_nothing_and_never_warn(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import warnings

    from handoff.observability import metrics

    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")  # as the local stack runs
    metrics.clear_metrics()  # the set is shared: start from what another test may have left

    @metrics.log_metrics
    def handler(event: dict[str, object], context: object) -> None:
        for _ in range(250):
            metrics.add_metric(name="LeadsReceived", unit=MetricUnit.Count, value=1)

    @metrics.log_metrics
    def emptied_meanwhile(event: dict[str, object], context: object) -> None:
        # Handlers share the set in one process (the local stack): another one's work may leave
        # it empty as this one ends.
        metrics.add_metric(name="LeadsReceived", unit=MetricUnit.Count, value=1)
        metrics.clear_metrics()

    with warnings.catch_warnings(record=True) as warned:
        warnings.simplefilter("always")
        handler({}, None)
        emptied_meanwhile({}, None)
    assert _emf_lines(capsys) == []
    assert not [w for w in warned if "No application metrics" in str(w.message)]

    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")  # as on AWS: the set prints when full
    metrics.clear_metrics()  # the set is shared: start from what another test may have left
    for _ in range(100):
        metrics.add_metric(name="LeadsReceived", unit=MetricUnit.Count, value=1)
    [published] = _emf_lines(capsys)
    assert published["LeadsReceived"] == [1.0] * 100

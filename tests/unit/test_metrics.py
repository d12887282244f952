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

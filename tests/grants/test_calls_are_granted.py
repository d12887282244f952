"""Every AWS call each function made in the integration and e2e tiers is allowed by that
function's role in the synthesized template, at action and resource level.

moto enforces no IAM, so without this a handler can call an API its deployed role does not
allow and every local test still passes. Runs last (tests/conftest.py orders it), over the
calls the session recorded; a tier the session did not include is run here first.
"""

from __future__ import annotations

from handoff.deploy.functions import ALL_FUNCTIONS
from tests.grants.conftest import Recording, Synthesized
from tests.grants.iam import check


def test_every_recorded_call_is_granted_by_the_functions_role(
    synthesized: Synthesized, recorded: Recording
) -> None:
    report = check(synthesized.checked(), recorded.calls)
    assert report.checked > 0, f"no IAM requests among {len(recorded.calls)} recorded calls"
    problems = report.problems()
    context = "\n".join(recorded.notes)
    assert problems == [], (
        f"{len(report.ungranted)} ungranted IAM requests, {len(report.unmapped)} unmappable calls and "
        f"{len(report.unset_settings)} settings the template does not give a function, over "
        f"{report.checked} IAM requests from {len(recorded.calls)} calls (tiers: {', '.join(recorded.tiers)}):\n"
        + "\n".join(problems)
        + (f"\n\n{context}" if context else "")
    )


def test_every_function_made_calls_that_were_checked(recorded: Recording) -> None:
    """The check above covers every function, or it proves nothing about the silent ones."""
    made = {call.function for call in recorded.calls}
    silent = sorted(spec.key for spec in ALL_FUNCTIONS if spec.key not in made)
    assert silent == [], f"no recorded AWS call from {', '.join(silent)} (tiers: {', '.join(recorded.tiers)})"

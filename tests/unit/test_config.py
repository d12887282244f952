from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from handoff.config import load_config, parse_config
from handoff.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("path", ["config/handoff.toml", "examples/demo.toml"])
def test_shipped_configs_are_valid(path: str) -> None:
    config = load_config(ROOT / path)
    assert config.sla["hot"] > 0
    assert "demo_request" in config.qualify.next_step_triggers


def test_demo_config_counts_sla_in_seconds() -> None:
    assert load_config(ROOT / "examples/demo.toml").sla["hot"] < 60


def test_unknown_key_names_the_key_and_the_file() -> None:
    with pytest.raises(ConfigError) as error:
        parse_config("[qualify]\nmin_fitt = 10\n", "ops.toml")
    assert "ops.toml" in str(error.value)
    assert "qualify.min_fitt" in str(error.value)


def test_bad_value_names_the_key() -> None:
    with pytest.raises(ConfigError) as error:
        parse_config("[sla]\nhot = -5\nwarm = 10\n", "ops.toml")
    assert "sla.hot" in str(error.value)


def test_inverted_employee_range_is_rejected() -> None:
    with pytest.raises(ConfigError) as error:
        parse_config("[qualify.fit.employees]\nmin = 500\nmax = 10\n", "ops.toml")
    assert "qualify.fit.employees" in str(error.value)
    assert "max must be at least min" in str(error.value)


def test_final_outcomes_must_exist() -> None:
    with pytest.raises(ConfigError, match="final lists outcomes not in reasons: won"):
        parse_config('[dispositions]\nfinal = ["won"]\n', "ops.toml")


def test_invalid_toml_names_the_file() -> None:
    with pytest.raises(ConfigError, match=r"^ops.toml: not valid TOML"):
        parse_config("[qualify\n", "ops.toml")


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config"):
        load_config(tmp_path / "absent.toml")


def test_empty_config_takes_safe_defaults() -> None:
    config = parse_config("", "empty.toml")
    assert config.routing.default_pool == "sales"
    assert config.sla_seconds("hot") == 300
    assert config.sla_seconds("unknown-tier") == config.sla["warm"]


def test_slas_count_working_time_by_default_and_the_demo_runs_on_the_wall_clock() -> None:
    empty = parse_config("", "empty.toml")
    assert empty.escalation.sla_in_working_hours is True
    assert empty.routing.default_working_hours == "09:00-17:30"
    assert empty.routing.after_hours_pool == ""  # off
    shipped = load_config(ROOT / "config" / "handoff.toml")
    assert shipped.escalation.sla_in_working_hours and shipped.routing.after_hours_pool == ""
    # The demo climbs the whole ladder in seconds whenever it is run.
    assert not load_config(ROOT / "examples/demo.toml").escalation.sla_in_working_hours


def test_default_working_hours_must_be_a_working_day() -> None:
    with pytest.raises(ConfigError, match=r"routing\.default_working_hours: '17:30-09:00' is not"):
        parse_config('[routing]\ndefault_working_hours = "17:30-09:00"\n', "ops.toml")
    with pytest.raises(ConfigError, match=r"routing\.default_working_hours"):
        parse_config('[routing]\ndefault_working_hours = "9 to 5"\n', "ops.toml")
    pool = parse_config('[routing]\nafter_hours_pool = "OnCall"\n', "ops.toml").routing.after_hours_pool
    assert pool == "oncall"  # pool names ignore case


def test_every_tier_needs_an_sla() -> None:
    text = '[[qualify.tiers]]\nname = "vip"\nmin_score = 90\n[[qualify.tiers]]\nname = "hot"\nmin_score = 0\n'
    with pytest.raises(ConfigError, match=r"no SLA for tier\(s\) vip"):
        parse_config(text, "ops.toml")


def test_tiers_must_be_ordered_and_unique() -> None:
    with pytest.raises(ConfigError, match="highest min_score down"):
        parse_config(
            '[[qualify.tiers]]\nname = "warm"\nmin_score = 0\n[[qualify.tiers]]\nname = "hot"\nmin_score = 80\n',
            "x",
        )
    with pytest.raises(ConfigError, match="duplicate tier"):
        parse_config(
            '[[qualify.tiers]]\nname = "hot"\nmin_score = 80\n[[qualify.tiers]]\nname = "hot"\nmin_score = 0\n',
            "x",
        )


def test_required_fields_must_be_paths() -> None:
    with pytest.raises(ConfigError, match=r"qualify: .*required_fields: 'employees'"):
        parse_config('[qualify]\nrequired_fields = ["employees"]\n', "x")


def test_free_mail_policy_is_one_of_three() -> None:
    with pytest.raises(ConfigError, match=r"qualify\.exclusions\.free_mail"):
        parse_config('[qualify.exclusions]\nfree_mail = "sometimes"\n', "x")


def test_a_ladder_longer_than_the_workflow_timeout_is_a_warning() -> None:
    from handoff.deploy.workflow import execution_timeout_seconds

    shipped = load_config(ROOT / "config" / "handoff.toml")
    limit = execution_timeout_seconds()
    assert limit is not None and shipped.ladder_seconds() < limit
    assert not [w for w in shipped.warnings() if w.startswith("escalation:")]
    text = (ROOT / "config" / "handoff.toml").read_text()
    long_sla = text.replace("warm = 14400   # 4 hours", "warm = 2592000  # 30 days")
    assert long_sla != text
    [warning] = [w for w in parse_config(long_sla, "t").warnings() if w.startswith("escalation:")]
    assert "timeout" in warning and "sla_check resumes" in warning


def test_the_sender_time_zone_must_be_a_zone() -> None:
    assert parse_config(
        '[adapters]\nsender_timezone = "Europe/Berlin"\n', "ops.toml"
    ).adapters.sender_timezone
    with pytest.raises(ConfigError) as error:
        parse_config('[adapters]\nsender_timezone = "Central"\n', "ops.toml")
    assert "adapters.sender_timezone" in str(error.value) and "IANA" in str(error.value)


@pytest.mark.parametrize(
    ("toml", "key", "name"),
    [
        (
            "[qualify.intent.trigger_weights]\npricing_requst = 50\n",
            "qualify.intent.trigger_weights",
            "pricing_requst",
        ),
        (
            "[qualify.intent.activity_weights]\npricing_pages = 20\n",
            "qualify.intent.activity_weights",
            "pricing_pages",
        ),
        ('[qualify]\nbofu_triggers = ["demo_requests"]\n', "qualify.bofu_triggers", "demo_requests"),
        ('[adapters.hubspot]\ndefault_trigger = "form"\n', "adapters.hubspot.default_trigger", "form"),
    ],
)
def test_a_type_no_lead_carries_is_an_error(toml: str, key: str, name: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_config(toml, "ops.toml")
    message = str(error.value)
    assert message.startswith("ops.toml: ") and f"{key}: {name!r} is not" in message
    assert "custom_types" in message  # says how to weight a type of your own


def test_custom_types_may_be_weighted() -> None:
    text = '[qualify.intent]\ncustom_types = ["trial_signup"]\n[qualify.intent.trigger_weights]\ntrial_signup = 40\n'
    assert parse_config(text, "ops.toml").qualify.intent.trigger_weights["trial_signup"] == 40


@pytest.mark.parametrize(
    ("toml", "key"),
    [
        ('[routing]\nunassigned_email = "sales ops@example.com"\n', "routing.unassigned_email"),
        ('[routing]\nunassigned_email = "ops@queue.test"\n', "routing.unassigned_email"),  # reserved domain
        (
            '[escalation]\nmarketing_ops_email = "Marketing <mops@example.com>"\n',
            "escalation.marketing_ops_email",
        ),
        ('[email]\nreply_to = "replies@"\n', "email.reply_to"),
        ('[tuning]\nreport_to = "revops@@example.com"\n', "tuning.report_to"),
    ],
)
def test_config_addresses_are_checked_as_a_leads_email_is(toml: str, key: str) -> None:
    with pytest.raises(ConfigError, match=rf"^ops\.toml: {re.escape(key)}: "):
        parse_config(toml, "ops.toml")


def test_an_empty_optional_address_means_none() -> None:
    config = parse_config('[email]\nreply_to = ""\n[tuning]\nreport_to = ""\n', "ops.toml")
    assert (config.email.reply_to, config.tuning.report_to) == ("", "")


def test_pool_names_ignore_case() -> None:
    from handoff.domain.lead import Lead
    from handoff.domain.qualify import qualify
    from handoff.domain.record import LeadRecord
    from handoff.domain.rep import Rep
    from handoff.domain.route import plan_route

    config = parse_config(
        '[routing]\ndefault_pool = "Sales"\n[[routing.rules]]\nname = "EMEA"\npool = "EMEA"\n'
        'countries = ["GB"]\n[routing.pools.Emea]\noverflow = "SALES"\n',
        "ops.toml",
    )
    assert config.routing.rules[0].pool == "emea" and config.routing.overflow_chain("emea")[:2] == [
        "emea",
        "sales",
    ]
    lead = Lead.model_validate(
        {
            "event_id": "e1",
            "contact": {"email": "a@northwind.example", "country": "GB"},
            "trigger": {"type": "demo_request"},
        }
    )
    now = datetime.now(UTC)
    record = LeadRecord.from_lead(lead, qualify(lead, config.qualify, now), now)
    chloe = Rep(rep_id="chloe", email="chloe@example.com", pools=["emea "])
    plan = plan_route(record, [chloe], config.routing, now)
    assert [c.rep.rep_id for s in plan.steps for c in s.candidates] == ["chloe"]
    with pytest.raises(
        ConfigError, match=r"routing\.pools: \[routing\.pools\.EMEA\] and \[routing\.pools\.emea\]"
    ):
        parse_config("[routing.pools.EMEA]\n[routing.pools.emea]\n", "ops.toml")

"""The ``handoff`` command: the local stack and demo, rep and account admin, routing explanations,
and closing the loop (report, tune, simulate).

Admin commands talk to the deployed tables with your AWS credentials, or to the local
stack when AWS_ENDPOINT_URL points at it.
"""

from __future__ import annotations

import argparse
import faulthandler
import json
import os
import signal
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from handoff.cli import insights
from handoff.deploy.functions import REPO_ROOT
from handoff.deploy.settings import variable
from handoff.errors import ConfigError, HandoffError

DEFAULT_CONFIG = str(REPO_ROOT / "config" / "handoff.toml")
DEFAULT_REPS = str(REPO_ROOT / "examples" / "reps.csv")
DEFAULT_ACCOUNTS = str(REPO_ROOT / "examples" / "accounts.csv")
SIGNAL_POLL_SECONDS = 0.5
STOP_BUDGET_SECONDS = 40
LIVE_REP_FIELDS = ("open_count", "vtime", "vstart", "day", "day_count", "assigned_total", "last_assigned_at")


def _serve(args: argparse.Namespace) -> int:
    from handoff.local.console_users import sign_in_lines
    from handoff.local.stack import LocalOptions, LocalStack

    stack = LocalStack(
        LocalOptions(
            port=args.port,
            aws_port=args.aws_port,
            config_path=Path(args.config),
            reps_path=Path(args.reps) if args.reps else None,
            accounts_path=Path(args.accounts) if args.accounts else None,
            outbox=Path(args.outbox),
            sla_check_every=args.sla_check_every,
            hubspot_api=args.hubspot_api,
            salesforce_login=args.salesforce_login,
        )
    )
    stack.start()
    print(f"Handoff API     {stack.api_url}")
    print(f"AWS (moto)      {stack.aws_url}   e.g. AWS_ENDPOINT_URL={stack.aws_url} aws dynamodb list-tables")
    print(f"State machine   {stack.state_machine_arn}")
    print(f"HubSpot API     {stack.hubspot_api}")
    print(f"Salesforce      {os.environ.get(variable('salesforce_login_url'), '')}")
    print(f"Outbox          {Path(args.outbox).resolve()}")
    print("\n".join(sign_in_lines(stack.api_url, stack.console_users)))
    print("Secrets come from HANDOFF_GENERIC_SECRET, HANDOFF_API_KEY, ... (random when unset)")
    print("Ctrl-C stops.", flush=True)
    wait_for_stop_signal()
    # A stop that hangs prints every thread's stack to the output and exits 1, rather than
    # leaving the person (or the test) that pressed Ctrl-C waiting.
    faulthandler.dump_traceback_later(STOP_BUDGET_SECONDS, exit=True)
    stack.stop()
    print("stopped", flush=True)
    return 0


def wait_for_stop_signal() -> None:
    """Block until SIGTERM or SIGINT (Ctrl-C)."""
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    # Python runs signal handlers on the main thread only, and a signal the kernel hands to one
    # of the stack's other threads does not wake a wait with no timeout: wake now and then.
    while not stopped.wait(SIGNAL_POLL_SECONDS):
        pass


def _demo(args: argparse.Namespace) -> int:
    from handoff.local.demo import run_demo

    return run_demo(outbox=Path(args.outbox))


def _table(args: argparse.Namespace | None, env: str) -> Any:
    import boto3

    name = (args.table if args else None) or os.environ.get(env)
    if not name:
        raise ConfigError(f"no table: pass --table or set {env} (the stack outputs it)")
    return boto3.resource("dynamodb").Table(name)


def _reps_repository(args: argparse.Namespace) -> Any:
    from handoff.aws.reps import RepRepository

    return RepRepository(_table(args, "HANDOFF_REPS_TABLE"))


def _reps_import(args: argparse.Namespace) -> int:
    from handoff.config.roster import cell, load_reps_csv
    from handoff.domain.rep import Rep

    reps = load_reps_csv(args.file)
    repository = _reps_repository(args)
    existing = {rep.rep_id: rep for rep in repository.list_all()}
    profile = [name for name in Rep.model_fields if name not in {"rep_id", *LIVE_REP_FIELDS}]
    added = updated = unchanged = deactivated = 0
    verb = "would " if args.dry_run else ""
    for rep in reps:
        old = existing.get(rep.rep_id)
        if old is None:
            print(f"{verb}add {rep.rep_id} (pools {cell(rep.pools) or 'none'})")
            added += 1
            if not args.dry_run:
                repository.put(rep)
            continue
        changed = [name for name in profile if getattr(rep, name) != getattr(old, name)]
        if not changed:
            unchanged += 1
            continue
        described = "; ".join(
            f"{name} {cell(getattr(old, name)) or '(empty)'} -> {cell(getattr(rep, name)) or '(empty)'}"
            for name in changed
        )
        print(f"{verb}update {rep.rep_id}: {described}")
        updated += 1
        if not args.dry_run:
            # Only the profile fields that changed: live counters and the fairness clock stay
            # as routing left them, even if a lead is claimed while this runs.
            values = rep.model_dump(mode="json")
            repository.update(rep.rep_id, **{name: values[name] for name in changed})
    if args.sync:
        in_file = {rep.rep_id for rep in reps}
        for old in existing.values():
            if old.rep_id not in in_file and old.active:
                print(f"{verb}deactivate {old.rep_id}: not in {args.file}")
                deactivated += 1
                if not args.dry_run:
                    repository.update(old.rep_id, active=False)
    counts = f"{added} added, {updated} updated, {unchanged} unchanged" + (
        f", {deactivated} deactivated" if args.sync else ""
    )
    if args.dry_run:
        print(f"dry run: {len(reps)} reps in {args.file} ({counts}); nothing was changed")
    else:
        print(f"imported {len(reps)} reps ({counts})")
    return 0


def _reps_export(args: argparse.Namespace) -> int:
    from handoff.config.roster import dump_reps_csv

    reps = _reps_repository(args).list_all()
    text = dump_reps_csv(reps)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"wrote {len(reps)} reps to {args.out}")
    else:
        sys.stdout.write(text)
    return 0


def _reps_list(args: argparse.Namespace) -> int:
    from handoff.domain.route import availability

    now = datetime.now(UTC)
    reps = _reps_repository(args).list_all()
    print(f"{'rep':<14}{'pools':<18}{'weight':>7}{'open':>8}  availability")
    for rep in reps:
        status = availability(rep, now) or "available"
        print(
            f"{rep.rep_id:<14}{','.join(rep.pools):<18}{rep.weight:>7g}{rep.open_count:>4}/{rep.capacity:<3}  {status}"
        )
    return 0


def _reps_set(args: argparse.Namespace) -> int:
    from handoff.domain.rep import rep_changes
    from handoff.errors import BadRequest

    try:
        changes = rep_changes(
            status=args.status,
            until=args.until,
            capacity=args.capacity,
            weight=args.weight,
            daily_cap=args.daily_cap,
        )
    except BadRequest as exc:
        # The same checks as the console's rep form; here the field is named as its option.
        field = str(exc.details[0]["field"]) if exc.details else "form"
        if field == "form":
            raise
        flag = "--" + field.replace("_", "-")
        raise ConfigError(flag + exc.message.removeprefix(field)) from exc
    rep = _reps_repository(args).update(args.rep_id, **changes)
    print(
        f"{rep.rep_id}: active={rep.active} ooo_until={rep.ooo_until} capacity={rep.capacity} weight={rep.weight:g}"
    )
    return 0


def _accounts_import(args: argparse.Namespace) -> int:
    from handoff.aws.accounts import AccountRepository
    from handoff.config.roster import load_accounts_csv

    accounts = load_accounts_csv(args.file)
    repository = AccountRepository(_table(args, "HANDOFF_ACCOUNTS_TABLE"))
    for account in accounts:
        repository.put(account)
    print(f"imported {len(accounts)} accounts")
    return 0


def _route_explain(args: argparse.Namespace) -> int:
    from handoff.cli.explain import OwnerOf, explain, owners_from_csv

    owner_of: OwnerOf | None = None
    if args.accounts or not args.live:
        owner_of = owners_from_csv(Path(args.accounts or DEFAULT_ACCOUNTS))
    elif os.environ.get("HANDOFF_ACCOUNTS_TABLE"):
        from handoff.aws.accounts import AccountRepository

        owner_of = AccountRepository(_table(None, "HANDOFF_ACCOUNTS_TABLE")).owner_for
    reps, _ = _roster(args, default=DEFAULT_REPS)
    print(explain(Path(args.explain), Path(args.config), reps or [], owner_of))
    return 0


def _roster(args: argparse.Namespace, default: str | None = None) -> tuple[list[Any] | None, str]:
    """The reps --live (the reps table) or --reps (a CSV, else ``default``) names, and where
    they came from; (None, "") when there are none to read."""
    from handoff.config.roster import load_reps_csv

    if args.live:
        if args.reps:
            raise ConfigError("--live reads the reps table: give --reps or --live, not both")
        reps = _reps_repository(args).list_all()
        return reps, f"reps table {args.table or os.environ.get('HANDOFF_REPS_TABLE')}"
    file = args.reps or default
    return (load_reps_csv(file), str(file)) if file else (None, "")


def _redrive(args: argparse.Namespace) -> int:
    import boto3

    from handoff.aws.container import RETRIES
    from handoff.aws.leads import LeadRepository
    from handoff.aws.workflow import StepFunctionsWorkflow
    from handoff.service.redrive import failed_lead_ids, redrive

    state_machine = args.state_machine or os.environ.get("HANDOFF_STATE_MACHINE_ARN")
    if not state_machine:
        raise ConfigError(
            "no state machine: pass --state-machine or set HANDOFF_STATE_MACHINE_ARN (a stack output)"
        )
    if bool(args.lead_ids) == args.all_failed:
        raise ConfigError("name the failed leads to redrive, or pass --all-failed (not both)")
    leads = LeadRepository(_table(args, "HANDOFF_LEADS_TABLE"))
    workflow = StepFunctionsWorkflow(boto3.client("stepfunctions", config=RETRIES), state_machine)
    now = datetime.now(UTC)
    lead_ids = failed_lead_ids(leads) if args.all_failed else args.lead_ids
    problems = 0
    for lead_id in lead_ids:
        try:
            execution = redrive(leads, workflow, lead_id, now)
        except HandoffError as exc:
            problems += 1
            print(f"{lead_id}: not redriven: {exc}", file=sys.stderr)
        else:
            print(f"{lead_id}: redriven (execution {execution})")
    print(f"redrove {len(lead_ids) - problems} of {len(lead_ids)} failed lead(s)")
    return 1 if problems else 0


def _config_check(args: argparse.Namespace) -> int:
    from handoff.config import load_config
    from handoff.config.check import check_pools

    config = load_config(args.config)
    reps, where = _roster(args)
    found = check_pools(config, reps, str(args.config), where)
    for warning in config.warnings():
        print(f"warning: {args.config}: {warning}")
    for warning in found.warnings:
        print(f"warning: {warning}")
    if reps is None:
        print("pools not checked against reps: add --reps FILE, or --live for the reps table")
    for error in found.errors:
        print(f"error: {error}", file=sys.stderr)
    if found.errors:
        return 2
    print(f"{args.config}: valid" + (f" with {where}" if reps is not None else ""))
    return 0


def _operations(commands: Any) -> None:
    """Redrive and config check: what ops run when something needs a hand."""
    redrive = commands.add_parser(
        "redrive", help="resume failed leads from where they failed, repeating nothing that happened"
    )
    redrive.add_argument("lead_ids", nargs="*", metavar="LEAD_ID")
    redrive.add_argument("--all-failed", action="store_true", help="every lead in status failed")
    redrive.add_argument("--table", help="the LeadsTable output (default: $HANDOFF_LEADS_TABLE)")
    redrive.add_argument(
        "--state-machine", help="the StateMachineArn output (default: $HANDOFF_STATE_MACHINE_ARN)"
    )
    redrive.set_defaults(run=_redrive)

    check = commands.add_parser("config", help="validate a config file").add_subparsers(
        dest="action", required=True
    )
    chk = check.add_parser(
        "check",
        help="validate and list warnings (unreachable rules, uncovered countries); with --reps or "
        "--live, also that every rule's pool has reps in it",
    )
    chk.add_argument("--config", default=DEFAULT_CONFIG)
    _roster_arguments(chk, "reps CSV to check the pools against")
    chk.set_defaults(run=_config_check)


def _roster_arguments(parser: argparse.ArgumentParser, reps_help: str) -> None:
    """--reps FILE or --live (the reps table): where config check and route --explain find reps."""
    parser.add_argument("--reps", metavar="FILE", help=reps_help)
    parser.add_argument(
        "--live", action="store_true", help="read the deployed reps table instead of a CSV (see --table)"
    )
    parser.add_argument("--table", help="with --live: the RepsTable output (default: $HANDOFF_REPS_TABLE)")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="handoff", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the local stack in the foreground")
    serve.add_argument("--port", type=int, default=8080, help="HTTP API port (default 8080)")
    serve.add_argument("--aws-port", type=int, default=5005, help="embedded AWS (moto) port (default 5005)")
    serve.add_argument("--config", default=DEFAULT_CONFIG)
    serve.add_argument("--reps", default=DEFAULT_REPS)
    serve.add_argument("--accounts", default=str(REPO_ROOT / "examples" / "accounts.csv"))
    serve.add_argument("--outbox", default="outbox")
    serve.add_argument("--sla-check-every", type=float, default=60.0, help="seconds between sla_check sweeps")
    # Set in the environment (as a deployed function has them), the real endpoints are used.
    serve.add_argument(
        "--hubspot-api",
        default=os.environ.get(variable("hubspot_api_base"), ""),
        help="HubSpot API base URL (default: $HANDOFF_HUBSPOT_API_BASE, else a local fake of the CRM v3 API)",
    )
    serve.add_argument(
        "--salesforce-login",
        default=os.environ.get(variable("salesforce_login_url"), ""),
        help="Salesforce login URL (default: $HANDOFF_SALESFORCE_LOGIN_URL, else a local fake)",
    )
    serve.set_defaults(run=_serve)

    demo = commands.add_parser("demo", help="replay the sample webhooks through the local stack")
    demo.add_argument("--outbox", default="outbox")
    demo.set_defaults(run=_demo)

    reps = commands.add_parser("reps", help="manage reps in the reps table").add_subparsers(
        dest="action", required=True
    )
    imp = reps.add_parser("import", help="create or update reps from a CSV (columns as in examples/reps.csv)")
    imp.add_argument("file")
    imp.add_argument("--sync", action="store_true", help="also deactivate reps that are not in the file")
    imp.add_argument("--dry-run", action="store_true", help="print the changes without making them")
    imp.set_defaults(run=_reps_import)
    exp = reps.add_parser("export", help="write the reps table as CSV, in the columns import reads")
    exp.add_argument("--out", metavar="FILE", help="write here (default: standard output)")
    exp.set_defaults(run=_reps_export)
    lst = reps.add_parser("list", help="reps with capacity, open leads, weight and availability")
    lst.set_defaults(run=_reps_list)
    upd = reps.add_parser("set", help="change one rep's status, capacity or weight")
    upd.add_argument("rep_id")
    upd.add_argument("--status", choices=["active", "inactive", "ooo"])
    upd.add_argument("--until", help="with --status ooo: the first day back, YYYY-MM-DD")
    upd.add_argument("--capacity", type=int)
    upd.add_argument("--weight", type=float)
    upd.add_argument("--daily-cap", dest="daily_cap", type=int)
    upd.set_defaults(run=_reps_set)
    for sub in (imp, exp, lst, upd):
        sub.add_argument("--table", help="the RepsTable output (default: $HANDOFF_REPS_TABLE)")

    accounts = commands.add_parser("accounts", help="manage known accounts").add_subparsers(
        dest="action", required=True
    )
    acc = accounts.add_parser("import", help="load domain,owner,name rows (examples/accounts.csv)")
    acc.add_argument("file")
    acc.add_argument("--table", help="the AccountsTable output (default: $HANDOFF_ACCOUNTS_TABLE)")
    acc.set_defaults(run=_accounts_import)

    route = commands.add_parser("route", help="explain where a lead would go, with no side effects")
    route.add_argument("--explain", required=True, metavar="FILE.json", help="a lead in the canonical schema")
    route.add_argument("--config", default=DEFAULT_CONFIG)
    _roster_arguments(route, "reps CSV (default examples/reps.csv)")
    route.add_argument(
        "--accounts",
        help="accounts CSV (default examples/accounts.csv; with --live, the accounts table "
        "$HANDOFF_ACCOUNTS_TABLE when set)",
    )
    route.set_defaults(run=_route_explain)

    _operations(commands)
    insights.register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        code: int = args.run(args)
    except (ConfigError, HandoffError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except json.JSONDecodeError as exc:
        print(f"error: not valid JSON: {exc}", file=sys.stderr)
        return 2
    return code

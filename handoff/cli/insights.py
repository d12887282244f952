"""`handoff report`, `tune`, `simulate` and `history`: closing the loop from the command line.

History comes from a JSONL file (--history) or from the deployed leads table (--table, or
$HANDOFF_LEADS_TABLE with your AWS credentials).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from handoff.cli.progress import Progress, ticking
from handoff.deploy.functions import REPO_ROOT
from handoff.errors import ConfigError
from handoff.insights.kpis import CUTS

DEFAULT_CONFIG = str(REPO_ROOT / "config" / "handoff.toml")


def _date(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text).replace(tzinfo=UTC)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-11-01") from exc


def _source(args: argparse.Namespace) -> Callable[[], Iterator[Any]]:
    """A way to read the history rows, one at a time, from the file or the table (called again
    for a second pass: only a replay beyond weights and min_fit needs one)."""
    from handoff.insights.history import between, from_record, iter_jsonl

    start, end = args.start, args.end
    if args.history:

        def from_file() -> Iterator[Any]:
            with Progress(f"reading {args.history}", quiet=args.quiet) as progress:
                yield from between(iter_jsonl(args.history, progress), start, end)

        return from_file
    name = args.table or os.environ.get("HANDOFF_LEADS_TABLE")
    if not name:
        raise ConfigError("no history: pass --history FILE.jsonl, or --table (the LeadsTable output)")
    end = end or datetime.now(UTC)
    start = start or end - timedelta(days=90)

    def from_table() -> Iterator[Any]:
        import boto3

        from handoff.aws.leads import LeadRepository

        now = datetime.now(UTC)
        with Progress(f"reading leads from {name}", quiet=args.quiet) as progress:
            records = LeadRepository(boto3.resource("dynamodb").Table(name)).received_between(
                start, end, progress
            )
            yield from (from_record(r, now) for r in records)

    return from_table


def _rows(args: argparse.Namespace) -> list[Any]:
    """Every row in memory: only ``simulate`` needs them so (its router replays each lead in turn)."""
    return list(_source(args)())


def _report(args: argparse.Namespace) -> int:
    from handoff.config import load_config
    from handoff.email.render import render_report
    from handoff.insights.analysis import analyse
    from handoff.insights.tuning import tune

    config = load_config(args.config)
    source = _source(args)
    analysis = analyse(source(), config, ["tier", *([args.by] if args.by else [])])
    with ticking(f"measuring {analysis.received:,} leads", quiet=args.quiet):
        report = tune(analysis, config, datetime.now(UTC), analysis.period, reread=source)
    charts: dict[str, bytes] = {}
    if args.html or args.charts:
        from handoff.insights.charts import all_charts

        with ticking("drawing the charts", quiet=args.quiet):
            charts = all_charts(analysis, report.kpis, config)
    if args.charts:
        folder = Path(args.charts)
        folder.mkdir(parents=True, exist_ok=True)
        for name, png in charts.items():
            (folder / f"{name.lower().replace(' ', '-')}.png").write_bytes(png)
    if args.html:
        from handoff.insights.charts import data_uris

        Path(args.html).write_text(render_report(report, charts=data_uris(charts)).html)
        print(f"wrote {args.html}")
    print(render_report(report).text)
    if args.by:
        _print_cut(analysis.cut(args.by), args.by)
    return 0


def _print_cut(cut: dict[str, Any], by: str) -> None:
    from handoff.insights.stats import percent

    print(f"By {by}")
    print(
        f"  {by:<24} {'received':>8} {'handed':>7} {'SLA':>5} {'contact':>8} {'meeting':>8} {'MQL>SQL':>8} "
        f"{'rec>SQL':>8} {'routed ok':>9} {'S1>S2':>6} {'win':>5} {'pipeline/handoff':>16}"
    )
    for key, k in cut.items():
        per_handoff = "n/a" if k.pipeline_per_handoff is None else f"{k.pipeline_per_handoff:,.0f}"
        print(
            f"  {key[:24]:<24} {k.received:>8} {k.handed_off:>7} {percent(k.sla_attainment):>5} "
            f"{percent(k.contact_rate):>8} {percent(k.meeting_rate):>8} {percent(k.mql_to_sql):>8} "
            f"{percent(k.recycled_to_sql):>8} {percent(k.assignment_accuracy):>9} {percent(k.stage_1_to_2):>6} "
            f"{percent(k.win_rate):>5} {per_handoff:>16}"
        )


def _tune(args: argparse.Namespace) -> int:
    from handoff.service.tuning import build

    config_file = Path(args.config)
    source = _source(args)
    now = datetime.now(UTC)
    with ticking("tuning", quiet=args.quiet):
        output = build(source(), config_file.read_text(), now, None, str(config_file), reread=source)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(output.report.model_dump_json(indent=2))
    (out / "report.html").write_text(output.email.html)
    (out / "handoff.proposed.toml").write_text(output.proposed_config)
    (out / "handoff.toml.diff").write_text(output.config_diff)
    print(output.email.text)
    print(f"wrote {out}/report.json, report.html, handoff.proposed.toml, handoff.toml.diff")
    from handoff.config import parse_config

    if output.config_diff and parse_config(config_file.read_text(), str(config_file)).tuning.auto_apply:
        config_file.write_text(output.proposed_config)
        print(f"tuning.auto_apply is on: rewrote {config_file}; deploy it with `npx cdk deploy`")
    elif output.config_diff:
        print(f"review the diff, try it with `handoff simulate --config {out}/handoff.proposed.toml ...`")
    return 0


def _simulate(args: argparse.Namespace) -> int:
    from handoff.config import load_config
    from handoff.config.roster import load_reps_csv
    from handoff.insights.simulate import describe, simulate
    from handoff.insights.synthetic import synthetic_reps

    reps = load_reps_csv(args.reps) if args.reps else synthetic_reps()
    result = simulate(_rows(args), load_config(args.current), load_config(args.config), reps)
    print(result.model_dump_json(indent=2) if args.json else "\n".join(describe(result)))
    return 0


def _history_generate(args: argparse.Namespace) -> int:
    from handoff.config import load_config
    from handoff.insights.history import write_jsonl
    from handoff.insights.synthetic import iter_generate

    handed = [0]

    def counting(rows: Iterator[Any]) -> Iterator[Any]:
        for row in rows:
            handed[0] += row.handed_off
            yield row

    rows = iter_generate(load_config(args.config), leads=args.leads, weeks=args.weeks, seed=args.seed)
    count = write_jsonl(counting(rows), args.out)
    print(f"wrote {count} leads ({handed[0]} handed off) to {args.out}")
    return 0


def _history_export(args: argparse.Namespace) -> int:
    from handoff.insights.history import write_jsonl

    count = write_jsonl(_source(args)(), args.out)
    print(f"wrote {count} leads to {args.out}")
    return 0


def _source_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--history", metavar="FILE.jsonl", help="history rows (handoff history generate|export)"
    )
    parser.add_argument("--table", help="the LeadsTable output (default: $HANDOFF_LEADS_TABLE)")
    parser.add_argument(
        "--from", dest="start", type=_date, help="first day, YYYY-MM-DD (default: 90 days ago)"
    )
    parser.add_argument("--to", dest="end", type=_date, help="day after the last, YYYY-MM-DD (default: now)")
    parser.add_argument(
        "--quiet", action="store_true", help="no progress on stderr (there is none when it is not a terminal)"
    )


def register(commands: Any) -> None:
    report = commands.add_parser("report", help="KPIs and proposals for a period, in the terminal or as HTML")
    _source_arguments(report)
    report.add_argument("--config", default=DEFAULT_CONFIG)
    report.add_argument("--html", metavar="FILE", help="also write an HTML report with charts")
    report.add_argument("--charts", metavar="DIR", help="also write each chart as a PNG")
    report.add_argument("--by", choices=list(CUTS), help="also print the KPIs cut by one dimension")
    report.set_defaults(run=_report)

    tune = commands.add_parser("tune", help="propose config changes from outcomes (writes a diff to review)")
    _source_arguments(tune)
    tune.add_argument("--config", default=DEFAULT_CONFIG, help="the config to tune")
    tune.add_argument("--out", default="tuning", help="folder for the report and proposal (default tuning/)")
    tune.set_defaults(run=_tune)

    sim = commands.add_parser("simulate", help="replay history under a new config, with no side effects")
    _source_arguments(sim)
    sim.add_argument("--config", required=True, metavar="NEW.toml", help="the config to try")
    sim.add_argument("--current", default=DEFAULT_CONFIG, help="the config to compare with")
    sim.add_argument("--reps", help="reps CSV (default: the synthetic team of `history generate`)")
    sim.add_argument("--json", action="store_true", help="print the full result as JSON")
    sim.set_defaults(run=_simulate)

    history = commands.add_parser("history", help="history files for tune and simulate").add_subparsers(
        dest="action", required=True
    )
    gen = history.add_parser("generate", help="a seeded synthetic history with planted effects")
    gen.add_argument("--out", default="history.jsonl")
    gen.add_argument("--leads", type=int, default=4000)
    gen.add_argument("--weeks", type=int, default=12)
    gen.add_argument("--seed", type=int, default=7)
    gen.add_argument("--config", default=DEFAULT_CONFIG)
    gen.set_defaults(run=_history_generate)
    export = history.add_parser("export", help="the deployed leads table as history rows")
    _source_arguments(export)
    export.add_argument("--out", default="history.jsonl")
    export.set_defaults(run=_history_export)

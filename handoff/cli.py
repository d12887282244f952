"""The ``handoff`` command: run the local stack, or the demo on it."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from handoff.errors import ConfigError
from handoff.functions import REPO_ROOT


def _serve(args: argparse.Namespace) -> int:
    from handoff.local.stack import LocalOptions, LocalStack

    stack = LocalStack(
        LocalOptions(
            port=args.port,
            aws_port=args.aws_port,
            config_path=Path(args.config),
            reps_path=Path(args.reps) if args.reps else None,
            outbox=Path(args.outbox),
            sla_check_every=args.sla_check_every,
            hubspot_api=args.hubspot_api,
        )
    )
    stack.start()
    print(f"Handoff API     {stack.api_url}")
    print(f"AWS (moto)      {stack.aws_url}   e.g. AWS_ENDPOINT_URL={stack.aws_url} aws dynamodb list-tables")
    print(f"State machine   {stack.state_machine_arn}")
    print(f"HubSpot API     {stack.hubspot_api}")
    print(f"Outbox          {Path(args.outbox).resolve()}")
    print("Secrets come from HANDOFF_GENERIC_SECRET, HANDOFF_API_KEY, ... (random when unset)")
    print("Ctrl-C stops.", flush=True)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    stopped.wait()
    stack.stop()
    print("stopped")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from handoff.local.demo import run_demo

    return run_demo(outbox=Path(args.outbox))


def _load_reps(args: argparse.Namespace) -> int:
    import boto3

    from handoff.reps_import import load_reps_csv
    from handoff.store.reps import RepRepository

    reps = load_reps_csv(args.file)
    repository = RepRepository(boto3.resource("dynamodb").Table(args.table))
    for rep in reps:
        repository.put(rep)
    print(f"loaded {len(reps)} reps into {args.table}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="handoff", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the local stack in the foreground")
    serve.add_argument("--port", type=int, default=8080, help="HTTP API port (default 8080)")
    serve.add_argument("--aws-port", type=int, default=5005, help="embedded AWS (moto) port (default 5005)")
    serve.add_argument("--config", default=str(REPO_ROOT / "config" / "handoff.toml"))
    serve.add_argument("--reps", default=str(REPO_ROOT / "examples" / "reps.csv"))
    serve.add_argument("--outbox", default="outbox")
    serve.add_argument("--sla-check-every", type=float, default=60.0, help="seconds between sla_check sweeps")
    serve.add_argument(
        "--hubspot-api", default="", help="HubSpot API base URL (default: a local fake of the CRM v3 API)"
    )
    serve.set_defaults(run=_serve)

    demo = commands.add_parser("demo", help="replay the sample webhooks through the local stack")
    demo.add_argument("--outbox", default="outbox")
    demo.set_defaults(run=_demo)

    load = commands.add_parser(
        "load-reps", help="write reps from a CSV file into the reps table (uses your AWS credentials)"
    )
    load.add_argument("file", help="CSV with the columns of examples/reps.csv")
    load.add_argument("--table", required=True, help="the RepsTable output of the stack")
    load.set_defaults(run=_load_reps)

    args = parser.parse_args(argv)
    try:
        code: int = args.run(args)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())

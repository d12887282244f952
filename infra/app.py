"""CDK entry point: `npx cdk synth` / `npx cdk deploy`.

Context (cdk.json or -c): handoff:config (the ops config, validated here) and
handoff:sender (the SES sender identity).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks, ServerlessChecks

from handoff.config import load_config
from handoff.deploy.functions import REPO_ROOT
from handoff.errors import ConfigError
from infra.stack import HandoffStack


def _config_file(app: cdk.App, stage: str) -> Path:
    """-c handoff:config=FILE, else config/handoff.<stage>.toml when it exists, else config/handoff.toml."""
    chosen = app.node.try_get_context("handoff:config")
    if chosen:
        return REPO_ROOT / str(chosen)
    per_stage = REPO_ROOT / "config" / f"handoff.{stage}.toml"
    return per_stage if stage and per_stage.exists() else REPO_ROOT / "config" / "handoff.toml"


def build_app(
    outdir: str | None = None, context: dict[str, object] | None = None
) -> tuple[cdk.App, HandoffStack]:
    app = cdk.App(outdir=outdir, context=context) if outdir else cdk.App(context=context)
    # -c stage=prod deploys "Handoff-prod" beside "Handoff-dev" from one repo.
    stage = str(app.node.try_get_context("stage") or "")
    config_file = _config_file(app, stage)
    config = load_config(config_file)  # a bad config stops synth with the key and file named
    for warning in config.warnings():
        print(f"warning: {config_file.name}: {warning}", file=sys.stderr)
    sender = str(app.node.try_get_context("handoff:sender") or "handoff@example.com")
    stack = HandoffStack(
        app,
        str(app.node.try_get_context("handoff:stack") or (f"Handoff-{stage}" if stage else "Handoff")),
        config_file=Path(config_file),
        sender=sender,
        env=cdk.Environment(
            account=os.environ.get("CDK_DEFAULT_ACCOUNT"),
            region=os.environ.get("CDK_DEFAULT_REGION"),
        ),
        description="Handoff: marketing-to-sales handoff engine",
    )
    cdk.Aspects.of(app).add(AwsSolutionsChecks(verbose=True))
    cdk.Aspects.of(app).add(ServerlessChecks(verbose=True))
    return app, stack


def main() -> int:
    try:
        app, _ = build_app()
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())

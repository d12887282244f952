"""CDK entry point: `npx cdk synth` / `npx cdk deploy`.

Context (cdk.json or -c): handoff:config (the ops config, validated here) and
handoff:sender (the SES sender identity).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from handoff.config import load_config
from handoff.errors import ConfigError
from handoff.functions import REPO_ROOT
from infra.stack import HandoffStack


def build_app(outdir: str | None = None) -> tuple[cdk.App, HandoffStack]:
    app = cdk.App(outdir=outdir) if outdir else cdk.App()
    config_file = REPO_ROOT / str(app.node.try_get_context("handoff:config") or "config/handoff.toml")
    config = load_config(config_file)  # a bad config stops synth with the key and file named
    for warning in config.warnings():
        print(f"warning: {config_file.name}: {warning}", file=sys.stderr)
    sender = str(app.node.try_get_context("handoff:sender") or "handoff@example.com")
    stack = HandoffStack(
        app,
        str(app.node.try_get_context("handoff:stack") or "Handoff"),
        config_file=Path(config_file),
        sender=sender,
        env=cdk.Environment(
            account=os.environ.get("CDK_DEFAULT_ACCOUNT"),
            region=os.environ.get("CDK_DEFAULT_REGION"),
        ),
        description="Handoff: marketing-to-sales handoff engine",
    )
    cdk.Aspects.of(app).add(AwsSolutionsChecks(verbose=True))
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

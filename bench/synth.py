"""The synthesized CloudFormation template and CDK's staged assets, for B6 and B7.

Synth stages every asset into the output directory after applying the asset's own excludes,
so the staged folders are exactly what `cdk deploy` would zip and upload.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from handoff.deploy.functions import REPO_ROOT

LAYER_DIR = REPO_ROOT / "build" / "layer"


@dataclass(frozen=True)
class Synth:
    template: dict[str, Any]
    # CDK's display name ("Functions/qualify/Code") -> the staged folder it would zip.
    assets: dict[str, Path]
    # The S3 object key a resource's code points at ("<hash>.zip") -> the asset's display name.
    asset_names: dict[str, str]

    def resources(self, kind: str) -> dict[str, dict[str, Any]]:
        return {k: r for k, r in self.template["Resources"].items() if r["Type"] == kind}


def _same_tree(source: Path, built: Path, ignore: Any) -> bool:
    """True when ``built`` holds exactly ``source``'s files (after ``ignore``), byte for byte."""
    for root, dirs, files in os.walk(source):
        folder = Path(root)
        skipped = ignore(root, [*dirs, *files])
        dirs[:] = [d for d in dirs if d not in skipped]
        twin = built / folder.relative_to(source)
        kept = sorted(f for f in files if f not in skipped)
        present = sorted(p.name for p in twin.iterdir() if p.is_file()) if twin.is_dir() else []
        if kept != present or any((folder / f).read_bytes() != (twin / f).read_bytes() for f in kept):
            return False
    return True


def ensure_layer() -> None:
    """What `make layer` does, when the built layer is missing or its handoff package is stale.

    Synth refuses to run without build/layer, and B7 should weigh the code as it is now.
    """
    from layers import build

    if (LAYER_DIR / "python" / "handoff").is_dir() and _same_tree(
        REPO_ROOT / "handoff", LAYER_DIR / "python" / "handoff", build.EXCLUDE
    ):
        return
    print("  building the Lambda layer (make layer) ...", flush=True)
    build.build(LAYER_DIR)


@contextmanager
def synthesized() -> Iterator[Synth]:
    ensure_layer()
    with tempfile.TemporaryDirectory() as outdir:
        # jsii relays node's warnings (engine end-of-life, cdk-nag findings) on stderr; the
        # checks themselves belong to `make checkov` and the infra tests, not to a benchmark.
        with contextlib.redirect_stderr(io.StringIO()):
            from infra.app import build_app

            app, stack = build_app(outdir=outdir)
            assembly = app.synth()
        directory = Path(assembly.directory)
        manifest = json.loads((directory / f"{stack.artifact_id}.assets.json").read_text())
        zipped = {k: e for k, e in manifest["files"].items() if e["source"].get("packaging") == "zip"}
        yield Synth(
            template=json.loads((directory / stack.template_file).read_text()),
            assets={str(e.get("displayName", k)): directory / e["source"]["path"] for k, e in zipped.items()},
            asset_names={f"{k}.zip": str(e.get("displayName", k)) for k, e in zipped.items()},
        )

"""B7: what deploys, zipped as CDK zips it: the common layer and each function's own code.

The folders are CDK's staged assets from a fresh synth, so each asset's excludes (functions
drop __pycache__ and *.pyc) are already applied. CDK zips with deflate at zlib's default
level (its zip library's default is 6), which is Python's ZIP_DEFLATED default as well.
"""

from __future__ import annotations

import io
import os
import zipfile
from collections import Counter
from pathlib import Path
from typing import TypedDict

from bench.synth import synthesized
from handoff.deploy.functions import ALL_FUNCTIONS

MB = 1024 * 1024
KB = 1024
LAYER_GOAL_BYTES = 10 * MB
FUNCTION_GOAL_BYTES = 50 * KB
TOP_PACKAGES = 6


class Artifact(TypedDict):
    name: str
    zipped: int
    unzipped: int
    files: int
    goal: int | None


class ArtifactsResult(TypedDict):
    artifacts: list[Artifact]
    # The layer's biggest top-level packages by zipped bytes: what a smaller layer would cut.
    layer_top: list[tuple[str, int]]


def _artifact(name: str, folder: Path, goal: int | None) -> tuple[Artifact, list[zipfile.ZipInfo]]:
    """Zip ``folder`` in memory as CDK would (every file, symlinks followed): its figures and entries."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for root, _, files in os.walk(folder, followlinks=True):
            for file in sorted(files):
                path = Path(root) / file
                archive.write(path, path.relative_to(folder).as_posix())
        entries = archive.infolist()
    artifact = Artifact(
        name=name,
        # The archive as uploaded: local headers and the central directory included.
        zipped=len(buffer.getvalue()),
        unzipped=sum(e.file_size for e in entries),
        files=len(entries),
        goal=goal,
    )
    return artifact, entries


def _top_packages(entries: list[zipfile.ZipInfo]) -> list[tuple[str, int]]:
    by_package: Counter[str] = Counter()
    for entry in entries:
        parts = entry.filename.split("/")
        # python/<package>/...: group by the package; dist-info folders count with their own name.
        by_package[parts[1] if len(parts) > 2 else entry.filename] += entry.compress_size
    return by_package.most_common(TOP_PACKAGES)


def run() -> ArtifactsResult:
    with synthesized() as synth:
        layer, layer_entries = _artifact(
            "common layer", synth.assets["Functions/CommonLayer/Code"], LAYER_GOAL_BYTES
        )
        config_layer, _ = _artifact("config layer", synth.assets["Functions/ConfigLayer/Code"], None)
        functions = [
            _artifact(spec.key, synth.assets[f"Functions/{spec.key}/Code"], FUNCTION_GOAL_BYTES)[0]
            for spec in ALL_FUNCTIONS
        ]
    return ArtifactsResult(
        artifacts=[layer, config_layer, *functions], layer_top=_top_packages(layer_entries)
    )

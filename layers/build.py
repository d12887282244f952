"""Build the common Lambda layer with pip: no Docker needed.

Third-party wheels are fetched for Lambda's platform (arm64, CPython 3.13) and
cached by the hash of requirements.txt; the handoff package is copied fresh on
every build (minus the local stack, which never runs in AWS).

    python layers/build.py [--out build/layer]
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ROOT / "layers" / "common" / "requirements.txt"
DEFAULT_OUT = ROOT / "build" / "layer"
PLATFORM = "manylinux2014_aarch64"
PYTHON_VERSION = "3.13"
# Not needed in AWS: the local stack and its CLI, plus bytecode caches.
EXCLUDE = shutil.ignore_patterns("__pycache__", "*.pyc", "local")
# Trimmed from third-party packages: tests, type stubs and caches cost cold start and space.
PRUNE_DIRS = ("__pycache__", "tests", "test")
# Translations Handoff never reads: codes and English names are all it needs.
PRUNE_PATHS = ("pycountry/locales",)
# The Lambda Python runtime ships these (aws-xray-sdk pulls them in). A second,
# different botocore in the layer would shadow the runtime's and break its boto3.
RUNTIME_PROVIDED = (
    "boto3",
    "botocore",
    "s3transfer",
    "jmespath",
    "dateutil",
    "six",
    "urllib3",
    "bin",
)


def _deps_key() -> str:
    text = REQUIREMENTS.read_bytes() + f"{PLATFORM}/{PYTHON_VERSION}".encode()
    return hashlib.sha256(text).hexdigest()[:16]


def install_dependencies(deps_dir: Path) -> None:
    stamp = deps_dir / ".requirements-key"
    if stamp.exists() and stamp.read_text() == _deps_key():
        return
    shutil.rmtree(deps_dir, ignore_errors=True)
    deps_dir.mkdir(parents=True)
    subprocess.run(  # noqa: S603 - fixed argument list
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--platform",
            PLATFORM,
            "--only-binary=:all:",
            "--implementation",
            "cp",
            "--python-version",
            PYTHON_VERSION,
            "--target",
            str(deps_dir),
            "-r",
            str(REQUIREMENTS),
        ],
        check=True,
    )
    for name in RUNTIME_PROVIDED:
        for path in [
            *deps_dir.glob(name),
            *deps_dir.glob(f"{name}.py"),
            *deps_dir.glob(f"{name}-*.dist-info"),
            *deps_dir.glob(f"python_{name}-*.dist-info"),
        ]:
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    for pattern in PRUNE_DIRS:
        for path in list(deps_dir.rglob(pattern)):
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
    for relative in PRUNE_PATHS:
        shutil.rmtree(deps_dir / relative, ignore_errors=True)
    stamp.write_text(_deps_key())


def build(out: Path) -> Path:
    deps_dir = out.parent / "layer-deps"
    install_dependencies(deps_dir)
    python_dir = out / "python"
    shutil.rmtree(out, ignore_errors=True)
    shutil.copytree(deps_dir, python_dir, ignore=shutil.ignore_patterns(".requirements-key"))
    shutil.copytree(ROOT / "handoff", python_dir / "handoff", ignore=EXCLUDE)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    out = build(args.out)
    size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    print(f"layer: {out} ({size / 1e6:.1f} MB unzipped)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

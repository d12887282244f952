"""The handoff workflow definition: one ASL file, substituted the same way everywhere."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path

from handoff.deploy.functions import ALL_FUNCTIONS, ASL_PATH

PLACEHOLDER = re.compile(r"\$\{(\w+)\}")


def placeholders(path: Path = ASL_PATH) -> set[str]:
    return set(PLACEHOLDER.findall(path.read_text(encoding="utf-8")))


def function_substitutions(arn_for: Mapping[str, str]) -> dict[str, str]:
    """Map each ASL placeholder to the ARN of its function (keyed by FunctionSpec.key)."""
    return {f.asl_placeholder: arn_for[f.key] for f in ALL_FUNCTIONS if f.asl_placeholder}


def render_definition(substitutions: Mapping[str, str], path: Path = ASL_PATH) -> str:
    """The ASL with every ${Name} replaced; a missing substitution is an error, not a silent gap."""
    text = path.read_text(encoding="utf-8")
    missing = placeholders(path) - set(substitutions)
    if missing:
        raise KeyError(f"{path}: no substitution for {', '.join(sorted(missing))}")
    rendered = PLACEHOLDER.sub(lambda m: substitutions[m.group(1)], text)
    json.loads(rendered)  # fail here, not at execution time, if the result is not JSON
    return rendered


def execution_timeout_seconds(path: Path = ASL_PATH) -> int | None:
    """The workflow's TimeoutSeconds (None where the ASL is not shipped, as in a Lambda)."""
    if not path.exists():
        return None
    timeout = json.loads(path.read_text(encoding="utf-8")).get("TimeoutSeconds")
    return int(timeout) if timeout is not None else None

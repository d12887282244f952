"""The Lambda functions on the common layer, one per entry in handoff.deploy.functions."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path

from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from handoff.deploy.functions import ALL_FUNCTIONS, REPO_ROOT, FunctionSpec
from handoff.deploy.settings import environment
from infra.constructs.logs import retained_log_group
from infra.constructs.queues import dead_letter_queue

LAYER_DIR = REPO_ROOT / "build" / "layer"
CONFIG_LAYER_DIR = REPO_ROOT / "build" / "config-layer"
# Where the config layer puts the validated TOML inside the Lambda sandbox.
CONFIG_PATH_IN_LAMBDA = "/opt/config/handoff.toml"
RUNTIME = lambda_.Runtime.PYTHON_3_13
ARCHITECTURE = lambda_.Architecture.ARM_64


def config_layer_asset(config_file: Path) -> Path:
    """Stage the (already validated) config as its own tiny layer, so a config change
    redeploys a few bytes instead of the dependency layer."""
    target = CONFIG_LAYER_DIR / "config"
    shutil.rmtree(CONFIG_LAYER_DIR, ignore_errors=True)
    target.mkdir(parents=True)
    shutil.copyfile(config_file, target / "handoff.toml")
    return CONFIG_LAYER_DIR


class Functions(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config_file: Path, service_name: str) -> None:
        super().__init__(scope, construct_id)
        if not (LAYER_DIR / "python" / "handoff").is_dir():
            raise FileNotFoundError(f"{LAYER_DIR} is missing: run `make layer` before synth")
        self.common_layer = lambda_.LayerVersion(
            self,
            "CommonLayer",
            code=lambda_.Code.from_asset(str(LAYER_DIR)),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            description="Handoff: the handoff package with Powertools, pydantic, jinja2, defusedxml",
        )
        self.config_layer = lambda_.LayerVersion(
            self,
            "ConfigLayer",
            code=lambda_.Code.from_asset(str(config_layer_asset(config_file))),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            description="Handoff: the validated ops config (config/handoff.toml)",
        )
        powertools = {
            # The service is the stack: two stages in one account keep their metrics (and the
            # alarms that read them) apart. One for every function: alarms and the dashboard read
            # one metric per KPI; the function is in every log line anyway.
            "POWERTOOLS_SERVICE_NAME": service_name,
            "POWERTOOLS_METRICS_NAMESPACE": "Handoff",
            "POWERTOOLS_LOG_LEVEL": "INFO",
        }
        # Where an asynchronously invoked function's event goes after Lambda's two retries.
        self.failed_events: dict[str, sqs.Queue] = {
            spec.key: dead_letter_queue(self, f"{spec.key}-failed-events")
            for spec in ALL_FUNCTIONS
            if spec.asynchronous
        }
        self.by_key: dict[str, lambda_.Function] = {
            spec.key: self._function(spec, powertools) for spec in ALL_FUNCTIONS
        }

    def configure(self, settings: Mapping[str, str]) -> None:
        """Give each function exactly the settings its spec names, once the stack has made
        every resource behind them; a required one nothing provides fails the synth."""
        for spec in ALL_FUNCTIONS:
            for name, value in environment(spec, settings).items():
                self.by_key[spec.key].add_environment(name, value)

    def _function(self, spec: FunctionSpec, environment: dict[str, str]) -> lambda_.Function:
        log_group = retained_log_group(self, f"{spec.key}-logs")
        failed_events = self.failed_events.get(spec.key)
        return lambda_.Function(
            self,
            spec.key,
            description=f"Handoff: {spec.description}",
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler="app.handler",
            code=lambda_.Code.from_asset(str(spec.path), exclude=["__pycache__", "*.pyc"]),
            layers=[self.common_layer, self.config_layer],
            memory_size=spec.memory_mb,
            # No reserved concurrency: a new account's quota (10 or 50) cannot spare any, since a
            # reservation must leave 100 unreserved, and the first deploy would fail.
            timeout=Duration.seconds(spec.timeout_seconds),
            tracing=lambda_.Tracing.ACTIVE,
            log_group=log_group,
            environment=environment,
            on_failure=destinations.SqsDestination(failed_events) if failed_events else None,
            retry_attempts=2 if failed_events else None,
        )

    def __getitem__(self, key: str) -> lambda_.Function:
        return self.by_key[key]

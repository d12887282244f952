"""``handoff serve``: moto executing the real ASL, in-process handlers, DynamoDB in a process of its
own, an HTTP front, an outbox."""

from __future__ import annotations

import json
import logging
import os
import secrets as random_secrets
import socket
import threading
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3

from handoff.aws import container
from handoff.config import load_config
from handoff.config.roster import load_accounts_csv, load_reps_csv
from handoff.deploy.credentials import ALL_SECRETS
from handoff.deploy.functions import CRM_SYNC, REPO_ROOT, SLA_CHECK
from handoff.local import collector, in_process, lambdas, outbox
from handoff.local.console_users import ConsoleUser, create_users
from handoff.local.dynamodb_process import DynamoDBProcess
from handoff.local.fake_hubspot import FakeHubSpot
from handoff.local.fake_salesforce import FakeSalesforce
from handoff.local.http_front import HttpFront
from handoff.local.provision import provision
from handoff.local.queues import drain_once
from handoff.observability import logger, metrics

# A long poll's wait: short, so that stop() (which waits for the poller's round) is quick.
QUEUE_WAIT_SECONDS = 1


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class LocalOptions:
    port: int = 8080
    aws_port: int = 5005
    config_path: Path = REPO_ROOT / "config" / "handoff.toml"
    reps_path: Path | None = REPO_ROOT / "examples" / "reps.csv"
    accounts_path: Path | None = REPO_ROOT / "examples" / "accounts.csv"
    outbox: Path = Path("outbox")
    sla_check_every: float = 60.0
    # The HubSpot CRM API; empty starts a local fake serving examples/hubspot/crm-objects.json.
    hubspot_api: str = ""
    # Salesforce's login host (Account reads, write-back); empty starts a local fake of the OAuth
    # and REST API serving examples/salesforce/crm-objects.json.
    salesforce_login: str = ""
    # Secret values by SecretSpec.env_var; unset ones get a random value.
    secret_values: dict[str, str] = field(default_factory=dict)
    # module:function names the DynamoDB process runs at start (handoff.local.dynamodb_process).
    dynamodb_extensions: tuple[str, ...] = ()

    @classmethod
    def on_free_ports(cls, **options: Any) -> LocalOptions:
        """Options for a stack that must not collide with anything else running (demo, bench)."""
        return cls(port=free_port(), aws_port=free_port(), **options)


class LocalStack:
    """The whole system on loopback. ``start()`` then use ``api_url``; ``stop()`` when done."""

    def __init__(self, options: LocalOptions):
        self.options = options
        self.secret_values = {
            s.env_var: options.secret_values.get(s.env_var)
            or os.environ.get(s.env_var)
            or random_secrets.token_hex(16)
            for s in ALL_SECRETS
        }
        self._moto: Any = None
        self.dynamodb = DynamoDBProcess(options.dynamodb_extensions)
        self._front: HttpFront | None = None
        self._stop = threading.Event()
        self._collector_set = False  # handoff.local.collector's setting is this stack's to undo
        self._scheduler: threading.Thread | None = None
        self._poller: threading.Thread | None = None
        self.fake_hubspot: FakeHubSpot | None = None
        self.fake_salesforce: FakeSalesforce | None = None
        self.state_machine_arn = ""
        self.crm_sync_queue_url = ""
        # The console's local users and their passwords (printed by serve and demo, never logged).
        self.console_users: list[ConsoleUser] = []

    @property
    def hubspot_api(self) -> str:
        return os.environ.get("HANDOFF_HUBSPOT_API_BASE", "")

    @property
    def aws_url(self) -> str:
        return f"http://127.0.0.1:{self.options.aws_port}"

    @property
    def api_url(self) -> str:
        if self._front is None:
            raise RuntimeError("the local stack is not started")
        return self._front.url

    def environment(self) -> dict[str, str]:
        """What the in-process handlers see of AWS, as a deployed Lambda would; each function's
        own settings come from ``Provisioned.environment`` once the resources exist."""
        return {
            "AWS_ENDPOINT_URL": self.aws_url,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": lambdas.REGION,
            "AWS_REGION": lambdas.REGION,
            "MOTO_PORT": str(self.options.aws_port),
            "POWERTOOLS_SERVICE_NAME": "handoff",
            "POWERTOOLS_METRICS_NAMESPACE": "Handoff",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": os.environ.get("POWERTOOLS_LOG_LEVEL", "WARNING"),
            "POWERTOOLS_METRICS_DISABLED": "true",
        }

    def start(self) -> None:
        load_config(self.options.config_path)  # fail before starting anything
        self.dynamodb.launch()  # it readies itself while the rest starts
        reps = load_reps_csv(self.options.reps_path) if self.options.reps_path else []
        accounts = load_accounts_csv(self.options.accounts_path) if self.options.accounts_path else []
        hubspot_api = self.options.hubspot_api
        if not hubspot_api:
            self.fake_hubspot = FakeHubSpot(
                REPO_ROOT / "examples" / "hubspot" / "crm-objects.json",
                token=self.secret_values["HANDOFF_HUBSPOT_TOKEN"],
                dated_as_of=datetime.now(UTC),
            ).start()
            hubspot_api = self.fake_hubspot.url
        salesforce_login = self.options.salesforce_login
        if not salesforce_login:
            self.fake_salesforce = FakeSalesforce(
                self.secret_values["HANDOFF_SALESFORCE_CLIENT_ID"],
                self.secret_values["HANDOFF_SALESFORCE_CLIENT_SECRET"],
                data_file=REPO_ROOT / "examples" / "salesforce" / "crm-objects.json",
            ).start()
            salesforce_login = self.fake_salesforce.url
        os.environ.update(self.environment())
        # The shared Metrics object read its namespace when first imported, maybe before these
        # variables existed; on Lambda the variables always come first.
        metrics.namespace = os.environ["POWERTOOLS_METRICS_NAMESPACE"]
        # The shared Logger likewise: its level and service name.
        logger.setLevel(os.environ["POWERTOOLS_LOG_LEVEL"])
        logger.append_keys(service=os.environ["POWERTOOLS_SERVICE_NAME"])
        lambdas.install()
        outbox.install(Path(self.options.outbox))
        self._start_moto()
        provisioned = provision(self.secret_values)
        self.state_machine_arn = provisioned.state_machine_arn
        self.crm_sync_queue_url = provisioned.crm_sync_queue_url
        os.environ.update(
            provisioned.environment(
                config_path=str(Path(self.options.config_path).resolve()),
                # Links in briefs point at the local front.
                public_base_url=f"http://127.0.0.1:{self.options.port}",
                hubspot_api_base=hubspot_api,
                salesforce_login_url=salesforce_login,
            )
        )
        container.reset()
        for rep in reps:
            container.ports().reps.put(rep)
        self.console_users = create_users(provisioned.user_pool_id, reps)
        known_accounts = container.ports().accounts
        for account in accounts:
            if known_accounts:
                known_accounts.put(account)
        self._front = HttpFront("127.0.0.1", self.options.port)
        self._front.start()
        self._scheduler = threading.Thread(target=self._run_schedules, name="schedules", daemon=True)
        self._scheduler.start()
        self._poller = threading.Thread(target=self._run_queue, name="crm-sync-queue", daemon=True)
        self._poller.start()
        collector.stack_started()
        self._collector_set = True

    def _start_moto(self) -> None:
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per AWS call is noise
        self._moto = ThreadedMotoServer(
            ip_address=in_process.LOOPBACK, port=self.options.aws_port, verbose=False
        )
        self._moto.start()
        in_process.serve(self.options.aws_port)
        self.dynamodb.wait_ready()
        self.dynamodb.forward_here()
        config = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
        request = urllib.request.Request(  # noqa: S310 - fixed loopback URL
            f"{self.aws_url}/moto-api/config",
            data=json.dumps(config).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10):  # noqa: S310
            pass

    def _run_schedules(self) -> None:
        """EventBridge's job locally: run sla_check on a timer."""
        while not self._stop.wait(self.options.sla_check_every):
            try:
                lambdas.invoke(SLA_CHECK, {"source": "local.schedule"})
            except Exception as exc:  # keep the timer alive; the next sweep retries
                print(f"sla_check failed: {type(exc).__name__}: {exc}")

    def _run_queue(self) -> None:
        """The SQS event source mapping's job locally: feed crm_sync from its queue, long-polling
        through one client (handoff.local.queues)."""
        sqs = boto3.client("sqs")
        while not self._stop.is_set():
            try:
                drain_once(self.crm_sync_queue_url, CRM_SYNC, sqs, wait_seconds=QUEUE_WAIT_SECONDS)
            except Exception as exc:  # keep polling; the message stays on the queue
                print(f"crm_sync failed: {type(exc).__name__}: {exc}")
                self._stop.wait(QUEUE_WAIT_SECONDS)

    def stop(self) -> None:
        self._stop.set()
        if self._front is not None:
            self._front.stop()
        # The timers finish their current round before the AWS they talk to goes away.
        for thread in (self._scheduler, self._poller):
            if thread is not None:
                thread.join(timeout=10)
        if self._moto is not None:
            in_process.stop_serving(self.options.aws_port)
            self._moto.stop()
        self.dynamodb.stop()
        if self.fake_hubspot is not None:
            self.fake_hubspot.stop()
        if self.fake_salesforce is not None:
            self.fake_salesforce.stop()
        if self._collector_set:
            collector.stack_stopped()
            self._collector_set = False

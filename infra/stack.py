"""HandoffStack: the whole system in the customer's own account."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from aws_cdk import ArnFormat, CfnOutput, Stack
from aws_cdk import aws_iam as iam
from cdk_nag import NagPackSuppression, NagSuppressions
from constructs import Construct

from handoff.deploy import credentials
from handoff.deploy import functions as needs
from handoff.deploy.functions import (
    ALL_FUNCTIONS,
    API,
    AWAIT_TOUCH,
    CONSOLE,
    CONSOLE_AUTH,
    CRM_SYNC,
    DISPOSITION,
    MARK_FAILED,
    NOTIFY,
    QUALIFY,
    ROUTE,
    SES_EVENTS,
    SLA_CHECK,
    TUNING,
    FunctionSpec,
)
from infra.constructs.api import STAGE_NAME, Api
from infra.constructs.console import Console
from infra.constructs.crm_sync import CrmSync
from infra.constructs.email import Email
from infra.constructs.functions import CONFIG_PATH_IN_LAMBDA, Functions
from infra.constructs.observability import Observability
from infra.constructs.reports import Reports
from infra.constructs.schedules import Schedules
from infra.constructs.secrets import Secrets
from infra.constructs.tables import Tables
from infra.constructs.workflow import Workflow

# Who may touch what: least privilege, written down once.
SECRETS_READ_BY = {
    QUALIFY.key: (
        credentials.GENERIC_SECRET,
        credentials.GENERIC_TOKEN,
        credentials.HUBSPOT_APP_SECRET,
        credentials.HUBSPOT_TOKEN,
        credentials.SALESFORCE_TOKEN,
        credentials.SALESFORCE_ORG_IDS,
        # A Contact's Account is read through the REST API with the connected app's credentials.
        credentials.SALESFORCE_CLIENT_ID,
        credentials.SALESFORCE_CLIENT_SECRET,
    ),
    API.key: (credentials.API_KEY,),
    DISPOSITION.key: (credentials.API_KEY, credentials.LINK_KEY),
    NOTIFY.key: (credentials.LINK_KEY, credentials.SLACK_WEBHOOK),
    # The follow-up cadence's reminders carry signed outcome links.
    SLA_CHECK.key: (credentials.LINK_KEY,),
    # The owner's task in the CRM carries a signed outcome link.
    CRM_SYNC.key: (
        credentials.LINK_KEY,
        credentials.HUBSPOT_TOKEN,
        credentials.SALESFORCE_CLIENT_ID,
        credentials.SALESFORCE_CLIENT_SECRET,
    ),
    # The console's CSRF tokens are keyed by it; sign-in itself needs no secret (a public client).
    CONSOLE.key: (credentials.CONSOLE_CSRF,),
}
# crm_sync writes only its timeline entries.
LEADS_WRITERS = (
    QUALIFY,
    ROUTE,
    NOTIFY,
    AWAIT_TOUCH,
    MARK_FAILED,
    DISPOSITION,
    SLA_CHECK,
    SES_EVENTS,
    CRM_SYNC,
    # A manager's reassignment or an outcome recorded on a rep's behalf, and redrives.
    CONSOLE,
)
# The api function serves the read routes: it reads leads and reps and writes nothing.
LEADS_READERS = (API, TUNING)
# notify frees the slot on re-nurture; qualify does on a first touch logged in the CRM; sla_check
# when a follow-up cadence runs out.
# The console: a manager sets out-of-office and capacity for their own team.
REPS_WRITERS = (ROUTE, NOTIFY, DISPOSITION, QUALIFY, SLA_CHECK, CONSOLE)
REPS_READERS = (API, CRM_SYNC)
# A first touch is a disposition, whether a rep clicked it or the CRM logged it; so is the recycle
# at the end of a follow-up cadence.
DISPOSITION_WRITERS = (DISPOSITION, QUALIFY, SLA_CHECK, CONSOLE)
# The console's results and lead pages read dispositions back.
DISPOSITION_READERS = (CONSOLE,)
# Account owners for routing, and for the console's routing what-if (which claims nothing).
ACCOUNTS_READERS = (ROUTE, CONSOLE)
# The first touch, a bounce, or the parked wait itself end the SLA wait.
TASK_RESPONDERS = (AWAIT_TOUCH, DISPOSITION, SES_EVENTS, QUALIFY, CONSOLE)
# qualify starts each handoff; a reassignment after the first touch (disposition, console) starts a
# new execution, as do redrives (console) and sla_check's resumptions.
EXECUTION_STARTERS = (QUALIFY, DISPOSITION, SLA_CHECK, CONSOLE)
# notify briefs reps; sla_check tells sales ops about failed leads; tuning emails RevOps its report.
EMAIL_SENDERS = (NOTIFY, SLA_CHECK, TUNING)
# Those that send the handoff's email on the account's send schedule (tuning's one monthly email
# is sent at once, so the job writes no table).
PACED_SENDERS = (NOTIFY, SLA_CHECK)


def _flag(value: object, *, default: bool) -> bool:
    """A boolean context value, given as true/false on the command line or in cdk.json."""
    if value is None:
        return default
    return str(value).strip().lower() not in {"false", "0", "no", "off", ""}


class HandoffStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config_file: Path,
        sender: str,
        **kwargs: object,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        tables = Tables(
            self, "Tables", customer_managed_key=bool(self.node.try_get_context("handoff:tableKey"))
        )
        secret_store = Secrets(self, "Secrets", stack=self)
        email = Email(
            self,
            "Email",
            sender=sender,
            sandbox=_flag(self.node.try_get_context("handoff:sesSandbox"), default=True),
            create_identity=_flag(self.node.try_get_context("handoff:createSenderIdentity"), default=True),
        )
        functions = Functions(self, "Functions", config_file=config_file, service_name=self.stack_name)
        console = Console(self, "Console")
        workflow = Workflow(self, "Workflow", functions=functions)
        api = Api(
            self,
            "Api",
            functions=functions,
            api_key=secret_store.by_name[credentials.API_KEY.name],
            api_key_version=self.node.try_get_context("handoff:apiKeyVersion"),
            waf=bool(self.node.try_get_context("handoff:waf")),
            domain_name=self.node.try_get_context("handoff:domainName"),
            certificate_arn=self.node.try_get_context("handoff:certificateArn"),
            manage_logging_role=_flag(self.node.try_get_context("handoff:apiLoggingRole"), default=True),
        )
        schedules = Schedules(
            self, "Schedules", sla_check=functions[SLA_CHECK.key], tuning=functions[TUNING.key]
        )
        reports = Reports(self, "Reports")
        crm_sync = CrmSync(self, "CrmSync", function=functions[CRM_SYNC.key])
        delivery_dead_letters = email.deliver_events_to(functions[SES_EVENTS.key])
        observability = Observability(
            self,
            "Observability",
            service=self.stack_name,
            functions=functions.by_key,
            state_machine=workflow.state_machine,
            api=api.rest_api,
            dead_letter_queues=[
                schedules.dead_letters,
                delivery_dead_letters,
                crm_sync.dead_letters,
                *functions.failed_events.values(),
            ],
            alarm_email=self.node.try_get_context("handoff:alarmEmail"),
        )

        # The stage URL without a reference to the stage, which depends on every function.
        public_base_url = (
            str(self.node.try_get_context("handoff:publicBaseUrl") or "")
            or api.public_url
            or (
                f"https://{api.rest_api.rest_api_id}.execute-api.{self.region}.{self.url_suffix}/{STAGE_NAME}"
            )
        )
        # Every function's settings, from the resources behind them; each function gets only
        # those its spec names (handoff/deploy/functions.py), and a missing one stops the synth.
        optional = {
            needs.HUBSPOT_API: self.node.try_get_context("handoff:hubspotApiBase"),
            needs.SALESFORCE_LOGIN: self.node.try_get_context("handoff:salesforceLoginUrl"),
        }
        functions.configure(
            {
                needs.LEADS: tables.leads.table_name,
                needs.REPS: tables.reps.table_name,
                needs.ACCOUNTS: tables.accounts.table_name,
                needs.DISPOSITIONS: tables.dispositions.table_name,
                needs.IDEMPOTENCY: tables.idempotency.table_name,
                needs.SEND_SCHEDULE: tables.send_schedule.table_name,
                needs.CONFIG: CONFIG_PATH_IN_LAMBDA,
                needs.SECRETS: secret_store.prefix,
                # The ARN from the machine's fixed name: the workflow's own steps may read it
                # without a dependency cycle (the machine depends on them).
                needs.STATE_MACHINE: workflow.arn,
                needs.SENDER: sender,
                needs.SES_CONFIGURATION_SET: email.configuration_set.configuration_set_name,
                needs.PUBLIC_BASE_URL: public_base_url,
                needs.CRM_SYNC_QUEUE: crm_sync.queue.queue_url,
                needs.REPORTS_BUCKET: reports.bucket.bucket_name,
                needs.USER_POOL: console.user_pool.user_pool_id,
                needs.USER_POOL_CLIENT: console.client.user_pool_client_id,
                **{name: str(value) for name, value in optional.items() if value},
            }
        )
        self._grant(
            functions=functions,
            tables=tables,
            secret_store=secret_store,
            email=email,
            workflow=workflow,
            crm_sync=crm_sync,
            console=console,
            reports=reports,
        )

        api_url = f"{api.public_url}/" if api.public_url else api.rest_api.url
        CfnOutput(self, "ApiUrl", value=api_url)
        for crm in ("hubspot", "salesforce", "generic"):
            CfnOutput(self, f"{crm.capitalize()}WebhookUrl", value=f"{api_url}webhooks/{crm}")
        if api.domain:
            CfnOutput(
                self,
                "CustomDomainTarget",
                value=api.domain.domain_name_alias_domain_name,
                description="Point a CNAME (or Route 53 alias) for the custom domain here",
            )
        CfnOutput(
            self,
            "DashboardUrl",
            value=f"https://{self.region}.console.aws.amazon.com/cloudwatch/home?region={self.region}"
            f"#dashboards:name={observability.dashboard.dashboard_name}",
        )
        CfnOutput(self, "AlarmTopicArn", value=observability.topic.topic_arn)
        CfnOutput(self, "StateMachineArn", value=workflow.state_machine.state_machine_arn)
        CfnOutput(self, "LeadsTable", value=tables.leads.table_name)
        CfnOutput(self, "RepsTable", value=tables.reps.table_name)
        CfnOutput(self, "AccountsTable", value=tables.accounts.table_name)
        CfnOutput(self, "DispositionsTable", value=tables.dispositions.table_name)
        CfnOutput(self, "SecretPrefix", value=secret_store.prefix)
        CfnOutput(self, "ReportsBucket", value=reports.bucket.bucket_name)
        CfnOutput(
            self,
            "ConsoleUrl",
            value=f"{api_url}console",
            description="The ops console: sign in with a user of ConsoleUserPoolId (docs/deploy.md)",
        )
        CfnOutput(
            self,
            "ConsoleUserPoolId",
            value=console.user_pool.user_pool_id,
            description="Add a console user: aws cognito-idp admin-create-user --user-pool-id <this> "
            "--username <email> --user-attributes Name=email,Value=<email> Name=email_verified,Value=true, "
            "then aws cognito-idp admin-add-user-to-group --user-pool-id <this> --username <email> "
            "--group-name revops (or manager)",
        )
        self._suppress_reviewed_findings()

    def _grant(
        self,
        *,
        functions: Functions,
        tables: Tables,
        secret_store: Secrets,
        email: Email,
        workflow: Workflow,
        crm_sync: CrmSync,
        console: Console,
        reports: Reports,
    ) -> None:
        """Least privilege, from the tables above. tests/grants proves every AWS call each
        function makes in the test tiers is allowed here, at action and resource level."""
        for spec in EXECUTION_STARTERS:
            workflow.state_machine.grant_start_execution(functions[spec.key])
        # sla_check resumes leads whose execution stopped: it reads executions and starts new ones.
        workflow.state_machine.grant_read(functions[SLA_CHECK.key])
        self._grant_tables(functions, tables)
        for key, needed in SECRETS_READ_BY.items():
            for secret in needed:
                secret_store.by_name[secret.name].grant_read(functions[key])
        for spec in EMAIL_SENDERS:
            email.grant_send(functions[spec.key])
        for spec in PACED_SENDERS:
            email.grant_read_sending_rate(functions[spec.key])
        # Per-rep Slack webhooks are secrets ops add later, named <prefix>slack-<something>.
        functions[NOTIFY.key].add_to_role_policy(
            iam.PolicyStatement(
                actions=["secretsmanager:GetSecretValue"],
                resources=[
                    self.format_arn(
                        service="secretsmanager",
                        resource="secret",
                        resource_name=f"{secret_store.prefix}slack-*",
                        arn_format=ArnFormat.COLON_RESOURCE_NAME,
                    )
                ],
            )
        )
        for spec in TASK_RESPONDERS:
            workflow.grant_task_response(functions[spec.key])
        reports.bucket.grant_put(functions[TUNING.key])
        # The console's results page reads the reports and proposals tuning wrote.
        reports.bucket.grant_read(functions[CONSOLE.key])
        # The console's authorizer reads the user's groups; sign-in, sign-out and GetUser are
        # public or token-authorized Cognito calls, which take no IAM permission.
        console.grant_list_groups(functions[CONSOLE_AUTH.key])
        # Whoever is told the queue's address may post to it.
        for spec in ALL_FUNCTIONS:
            if needs.CRM_SYNC_QUEUE in spec.environment_names:
                crm_sync.queue.grant_send_messages(functions[spec.key])

    @staticmethod
    def _grant_tables(functions: Functions, tables: Tables) -> None:
        grants: tuple[tuple[Callable[[iam.IGrantable], iam.Grant], tuple[FunctionSpec, ...]], ...] = (
            (tables.leads.grant_read_write_data, LEADS_WRITERS),
            (tables.leads.grant_read_data, LEADS_READERS),
            (tables.reps.grant_read_write_data, REPS_WRITERS),
            (tables.reps.grant_read_data, REPS_READERS),
            (tables.accounts.grant_read_data, ACCOUNTS_READERS),
            (tables.dispositions.grant_write_data, DISPOSITION_WRITERS),
            (tables.dispositions.grant_read_data, DISPOSITION_READERS),
            (tables.idempotency.grant_read_write_data, (CRM_SYNC,)),
            (tables.send_schedule.grant_read_write_data, PACED_SENDERS),
        )
        for grant, specs in grants:
            for spec in specs:
                grant(functions[spec.key])

    def _suppress_reviewed_findings(self) -> None:
        """Each cdk-nag finding we accept, with the reason it is acceptable."""
        NagSuppressions.add_stack_suppressions(
            self,
            [
                NagPackSuppression(
                    id="AwsSolutions-IAM4",
                    reason="AWSLambdaBasicExecutionRole only lets a function write its own logs, and "
                    "AmazonAPIGatewayPushToCloudWatchLogs is the account-level role API Gateway logging needs.",
                    applies_to=[
                        "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
                        "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs",
                    ],
                ),
                NagPackSuppression(
                    id="AwsSolutions-IAM5",
                    reason="Wildcards are scoped: DynamoDB index/* of our own tables, X-Ray trace "
                    "segments and SES GetAccount, the account's sending rate (neither has resource-level permissions), the invoke of our own function "
                    "versions, CloudWatch Logs delivery for the workflow (which requires *), KMS "
                    "data-key generation on our own key, reads of the reports bucket's objects (the console's "
                    "results page), per-rep Slack webhook secrets under "
                    "<prefix>slack-*, and, in the SES sandbox (handoff:sesSandbox, on by default), the "
                    "account's own verified identities, which SES checks for every recipient there.",
                ),
                NagPackSuppression(
                    id="Serverless-LambdaLatestVersion",
                    reason="Python 3.13 is pinned deliberately: the layer's wheels are built for cp313.",
                ),
                NagPackSuppression(
                    id="Serverless-LambdaDLQ",
                    reason="An invoke dead-letter queue only applies to asynchronous invokes. API Gateway and "
                    "Step Functions invoke synchronously (the workflow retries, then marks the lead failed with "
                    "an alarm). The asynchronously invoked functions (sla_check, tuning, ses_events) have an "
                    "on-failure destination queue, which alarms, instead of the older DLQ setting.",
                ),
                NagPackSuppression(
                    id="Serverless-LambdaEventSourceMappingDestination",
                    reason="The CRM write-back mapping reads SQS, where an on-failure destination is not "
                    "available: the queue's redrive policy moves a message that keeps failing to its "
                    "dead-letter queue, which alarms.",
                ),
                NagPackSuppression(
                    id="Serverless-SQSRedrivePolicy",
                    reason="The queues are themselves dead-letter queues.",
                ),
                NagPackSuppression(
                    id="AwsSolutions-L1",
                    reason="Python 3.13 is pinned deliberately: the layer's wheels are built for cp313 "
                    "and moving runtime is a tested change, not an automatic one.",
                ),
                NagPackSuppression(
                    id="AwsSolutions-APIG2",
                    reason="JSON POST routes validate the body's shape at the gateway (handoff/deploy/functions.py "
                    "ROUTES); Salesforce posts SOAP and the link page a form, which the functions parse "
                    "and validate field by field, answering 400 naming the field.",
                ),
                NagPackSuppression(
                    id="AwsSolutions-APIG3",
                    reason="WAF is optional and arrives behind a flag; webhooks are authenticated by HMAC "
                    "signature and the stage is throttled.",
                ),
                NagPackSuppression(
                    id="AwsSolutions-APIG4",
                    reason="CRM webhooks cannot use IAM or Cognito: they are authenticated by HMAC signature "
                    "with a replay window, and the lead APIs by x-api-key, both checked in constant time "
                    "in the function. The console's pages sit behind its session authorizer (CUSTOM, a "
                    "Lambda REQUEST authorizer on the Cookie header, checked against Cognito); only its "
                    "sign-in page, GET and POST /console/login, is open, as a sign-in page must be.",
                ),
                NagPackSuppression(
                    id="AwsSolutions-COG4",
                    reason="Webhook and ops callers are CRMs (signed webhooks) and tools (x-api-key), not "
                    "Cognito users. The console's users are in a Cognito pool, but its routes use a "
                    "Lambda REQUEST authorizer (CUSTOM) instead of a COGNITO_USER_POOLS one: a browser "
                    "carries the session in an HttpOnly cookie, among other cookies, where a Cognito "
                    "authorizer reads a bare token from one header, and the authorizer also checks the "
                    "user's console group. Its sign-in page is public by necessity.",
                ),
                NagPackSuppression(
                    id="AwsSolutions-SMG4",
                    reason="Webhook secrets are shared with the CRM and rotate by the documented manual "
                    "procedure (set the new value in both places); automatic rotation would break "
                    "signature checks.",
                ),
            ],
        )

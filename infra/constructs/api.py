"""The regional REST API, built from handoff.deploy.functions.ROUTES."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, SecretValue, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from handoff.deploy.functions import CONSOLE_AUTH, ROUTES
from handoff.deploy.gateway import (
    CONSOLE_AUTH_CACHE_SECONDS,
    GATEWAY_RESPONSES,
    MODEL_CONTENT_TYPE,
    OPS_THROTTLE,
)
from infra.constructs.functions import Functions
from infra.constructs.logs import retained_log_group

STAGE_NAME = "v1"


class Api(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        functions: Functions,
        api_key: secretsmanager.ISecret,
        waf: bool,
        api_key_version: str | None = None,
        domain_name: str | None = None,
        certificate_arn: str | None = None,
        manage_logging_role: bool = True,
    ) -> None:
        super().__init__(scope, construct_id)
        access_logs = retained_log_group(self, "AccessLogs")
        self.rest_api = apigw.RestApi(
            self,
            "RestApi",
            rest_api_name=f"{Stack.of(self).stack_name}-api",
            description="Handoff: CRM webhooks, the lead API and disposition links",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            # API Gateway's logging role is one per account and region. Each stack may set it,
            # but none deletes it: a stage torn down must not stop another stage's logging.
            # An account whose role is already set can skip it (handoff:apiLoggingRole=false).
            cloud_watch_role=manage_logging_role,
            cloud_watch_role_removal_policy=RemovalPolicy.RETAIN,
            deploy_options=apigw.StageOptions(
                stage_name=STAGE_NAME,
                # The stage's default; every route sets its own (handoff.deploy.gateway).
                throttling_rate_limit=OPS_THROTTLE.rate,
                throttling_burst_limit=OPS_THROTTLE.burst,
                method_options={
                    route.method_key: apigw.MethodDeploymentOptions(
                        throttling_rate_limit=route.throttle.rate,
                        throttling_burst_limit=route.throttle.burst,
                    )
                    for route in ROUTES
                },
                tracing_enabled=True,
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,  # execution logs never carry bodies (personal data)
                metrics_enabled=True,
                access_log_destination=apigw.LogGroupLogDestination(access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=False,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=False,
                ),
            ),
        )
        # Errors API Gateway answers itself still follow Handoff's JSON error contract.
        for response in GATEWAY_RESPONSES.values():
            self.rest_api.add_gateway_response(
                f"{response.code}-{response.response_type}",
                type=apigw.ResponseType.of(response.response_type),
                status_code=str(response.status) if response.status else None,
                templates={MODEL_CONTENT_TYPE: response.template},
                # A custom domain maps the stage at its root; the execute-api URL has /v1 first.
                response_headers={
                    name: f"'{value}'"
                    for name, value in response.headers("" if domain_name else f"/{STAGE_NAME}").items()
                }
                or None,
            )
        body_validator = self.rest_api.add_request_validator(
            "JsonBody", validate_request_body=True, validate_request_parameters=False
        )
        models: dict[str, apigw.Model] = {}
        self.session_authorizer: apigw.RequestAuthorizer | None = None
        for route in ROUTES:
            resource = self.rest_api.root.resource_for_path(route.path)
            integration = apigw.LambdaIntegration(functions[route.function.key])
            options: dict[str, object] = {}
            if route.body_model is not None:
                options = {
                    "request_validator": body_validator,
                    "request_models": {MODEL_CONTENT_TYPE: self._model(models, route.body_model)},
                }
            if route.session:
                options["authorizer"] = self._session_authorizer(functions)
                options["authorization_type"] = apigw.AuthorizationType.CUSTOM
            # The gateway checks x-api-key too, so unauthenticated calls never reach a function.
            resource.add_method(route.method, integration, api_key_required=route.api_key, **options)  # type: ignore[arg-type]
        self._usage_plan(api_key, api_key_version)
        if waf:
            self._waf()
        self.domain = self._custom_domain(domain_name, certificate_arn) if domain_name else None
        # The custom domain maps to the stage at its root, so URLs carry no /v1.
        self.public_url = f"https://{domain_name}" if domain_name else None

    def _session_authorizer(self, functions: Functions) -> apigw.RequestAuthorizer:
        """The console's session check (CONSOLE_AUTH), one for every session route: a Lambda
        REQUEST authorizer on the Cookie header. A request without one gets the UNAUTHORIZED
        gateway response without the function running, and an answer is cached per Cookie
        value for CONSOLE_AUTH_CACHE_SECONDS, so the policy it returns must cover every console
        route, not only the one asked for."""
        if self.session_authorizer is None:
            self.session_authorizer = apigw.RequestAuthorizer(
                self,
                "ConsoleSession",
                authorizer_name=f"{Stack.of(self).stack_name}-console-session",
                handler=functions[CONSOLE_AUTH.key],
                identity_sources=[apigw.IdentitySource.header("Cookie")],
                results_cache_ttl=Duration.seconds(CONSOLE_AUTH_CACHE_SECONDS),
            )
        return self.session_authorizer

    def _custom_domain(self, domain_name: str, certificate_arn: str | None) -> apigw.DomainName:
        if not certificate_arn:
            raise ValueError(
                "handoff:domainName needs handoff:certificateArn (an ACM certificate in the stack's region)"
            )
        return self.rest_api.add_domain_name(
            "CustomDomain",
            domain_name=domain_name,
            certificate=acm.Certificate.from_certificate_arn(self, "Certificate", certificate_arn),
            endpoint_type=apigw.EndpointType.REGIONAL,
            security_policy=apigw.SecurityPolicy.TLS_1_2,
        )

    def _model(self, models: dict[str, apigw.Model], schema: dict[str, object]) -> apigw.Model:
        """One gateway model per distinct schema in the route table."""
        kinds = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        name = "Json" + "Or".join(str(k).capitalize() for k in kinds)
        if name not in models:
            models[name] = self.rest_api.add_model(
                name,
                content_type=MODEL_CONTENT_TYPE,
                schema=apigw.JsonSchema(
                    schema=apigw.JsonSchemaVersion.DRAFT4,
                    type=[getattr(apigw.JsonSchemaType, str(k).upper()) for k in kinds],
                ),
            )
        return models[name]

    def _usage_plan(self, api_key: secretsmanager.ISecret, version: str | None) -> None:
        """The ops key (the api-key secret's value) on a throttled usage plan.

        CloudFormation resolves a secret reference only when the template changes, so a rotated
        value reaches the gateway when the deploy names the new version
        (-c handoff:apiKeyVersion=<VersionId>): the key is then replaced with the new value."""
        value = (
            SecretValue.secrets_manager(api_key.secret_arn, version_id=str(version))
            if version
            else api_key.secret_value
        )
        key = apigw.ApiKey(
            self,
            "OpsKey",
            description="Handoff: x-api-key for the lead, rep and disposition APIs",
            # A CloudFormation dynamic reference: the value never appears in the template.
            value=value.unsafe_unwrap(),
        )
        plan = self.rest_api.add_usage_plan(
            "OpsPlan",
            throttle=apigw.ThrottleSettings(rate_limit=OPS_THROTTLE.rate, burst_limit=OPS_THROTTLE.burst),
            api_stages=[apigw.UsagePlanPerApiStage(api=self.rest_api, stage=self.rest_api.deployment_stage)],
        )
        plan.add_api_key(key)

    def _waf(self) -> None:
        """AWS managed common rules plus a per-IP rate rule (there is no L2 construct for WAFv2)."""
        acl = wafv2.CfnWebACL(
            self,
            "WebAcl",
            scope="REGIONAL",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=_visibility("handoff-api"),
            rules=[
                wafv2.CfnWebACL.RuleProperty(
                    name="common",
                    priority=0,
                    override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
                    statement=wafv2.CfnWebACL.StatementProperty(
                        managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                            vendor_name="AWS", name="AWSManagedRulesCommonRuleSet"
                        )
                    ),
                    visibility_config=_visibility("common"),
                ),
                wafv2.CfnWebACL.RuleProperty(
                    name="rate",
                    priority=1,
                    action=wafv2.CfnWebACL.RuleActionProperty(block={}),
                    statement=wafv2.CfnWebACL.StatementProperty(
                        rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                            limit=2000, aggregate_key_type="IP"
                        )
                    ),
                    visibility_config=_visibility("rate"),
                ),
            ],
        )
        wafv2.CfnWebACLAssociation(
            self,
            "WebAclAssociation",
            resource_arn=self.rest_api.deployment_stage.stage_arn,
            web_acl_arn=acl.attr_arn,
        )


def _visibility(name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=name, sampled_requests_enabled=True
    )

"""The regional REST API, built from handoff.functions.ROUTES."""

from __future__ import annotations

import json

from aws_cdk import RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from handoff.functions import ROUTES
from infra.constructs.functions import Functions
from infra.constructs.logs import retained_log_group

STAGE_NAME = "v1"

# Errors API Gateway answers itself still follow Handoff's JSON error contract.
GATEWAY_ERRORS = {
    apigw.ResponseType.BAD_REQUEST_BODY: (
        "invalid_request",
        "$context.error.validationErrorString",
    ),
    apigw.ResponseType.REQUEST_TOO_LARGE: ("payload_too_large", "$context.error.messageString"),
    apigw.ResponseType.THROTTLED: ("throttled", "too many requests; retry later"),
    apigw.ResponseType.DEFAULT_4_XX: ("bad_request", "$context.error.messageString"),
}


class Api(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        functions: Functions,
        api_key: secretsmanager.ISecret,
        waf: bool,
        domain_name: str | None = None,
        certificate_arn: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        access_logs = retained_log_group(self, "AccessLogs")
        self.rest_api = apigw.RestApi(
            self,
            "RestApi",
            description="Handoff: CRM webhooks, the lead API and disposition links",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            cloud_watch_role=True,
            cloud_watch_role_removal_policy=RemovalPolicy.DESTROY,
            deploy_options=apigw.StageOptions(
                stage_name=STAGE_NAME,
                throttling_rate_limit=50,
                throttling_burst_limit=100,
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
        for response_type, (code, message) in GATEWAY_ERRORS.items():
            self.rest_api.add_gateway_response(
                f"{code}-{response_type.response_type}",
                type=response_type,
                templates={
                    "application/json": json.dumps({"error": code, "message": message, "details": []})
                },
            )
        body_validator = self.rest_api.add_request_validator(
            "JsonBody", validate_request_body=True, validate_request_parameters=False
        )
        json_object = self.rest_api.add_model(
            "JsonObject",
            content_type="application/json",
            schema=apigw.JsonSchema(schema=apigw.JsonSchemaVersion.DRAFT4, type=apigw.JsonSchemaType.OBJECT),
        )
        for route in ROUTES:
            resource = self.rest_api.root.resource_for_path(route.path)
            integration = apigw.LambdaIntegration(functions[route.function.key])
            json_body: dict[str, object] = (
                {"request_validator": body_validator, "request_models": {"application/json": json_object}}
                if route.method == "POST"
                else {}
            )
            # The gateway checks x-api-key too, so unauthenticated calls never reach a function.
            resource.add_method(route.method, integration, api_key_required=route.api_key, **json_body)  # type: ignore[arg-type]
        self._usage_plan(api_key)
        if waf:
            self._waf()
        self.domain = self._custom_domain(domain_name, certificate_arn) if domain_name else None
        # The custom domain maps to the stage at its root, so URLs carry no /v1.
        self.public_url = f"https://{domain_name}" if domain_name else None

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

    def _usage_plan(self, api_key: secretsmanager.ISecret) -> None:
        """The ops key (the <stack>/api-key secret's value) on a throttled usage plan."""
        key = apigw.ApiKey(
            self,
            "OpsKey",
            description="Handoff: x-api-key for the lead, rep and disposition APIs",
            # A CloudFormation dynamic reference: the value never appears in the template.
            value=api_key.secret_value.unsafe_unwrap(),
        )
        plan = self.rest_api.add_usage_plan(
            "OpsPlan",
            throttle=apigw.ThrottleSettings(rate_limit=20, burst_limit=40),
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

"""The regional REST API, built from handoff.functions.ROUTES."""

from __future__ import annotations

import json

from aws_cdk import RemovalPolicy
from aws_cdk import aws_apigateway as apigw
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
    def __init__(self, scope: Construct, construct_id: str, *, functions: Functions) -> None:
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
            if route.method == "POST":
                resource.add_method(
                    route.method,
                    integration,
                    request_validator=body_validator,
                    request_models={"application/json": json_object},
                )
            else:
                resource.add_method(route.method, integration)

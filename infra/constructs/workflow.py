"""The STANDARD state machine, loaded from the one ASL file."""

from __future__ import annotations

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from handoff.deploy.functions import ALL_FUNCTIONS, ASL_PATH
from handoff.deploy.workflow import function_substitutions, placeholders
from infra.constructs.functions import Functions
from infra.constructs.logs import retained_log_group


class Workflow(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, functions: Functions) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        # A fixed name lets functions that answer task tokens reference the ARN
        # without a dependency cycle (the state machine depends on those functions).
        self.name = f"{stack.stack_name}-handoff"
        self.arn = stack.format_arn(
            service="states",
            resource="stateMachine",
            resource_name=self.name,
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        substitutions = function_substitutions({k: f.function_arn for k, f in functions.by_key.items()})
        missing = placeholders() - set(substitutions)
        if missing:
            raise KeyError(f"{ASL_PATH}: no substitution for {', '.join(sorted(missing))}")
        # Under /aws/vendedlogs/ Step Functions needs no log-group resource policy, so a busy
        # account never hits that policy's size limit. The stack's name keeps stages apart.
        log_group = retained_log_group(self, "Logs", log_group_name=f"/aws/vendedlogs/states/{self.name}")
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            state_machine_name=self.name,
            state_machine_type=sfn.StateMachineType.STANDARD,
            definition_body=sfn.DefinitionBody.from_file(str(ASL_PATH)),
            definition_substitutions=substitutions,
            tracing_enabled=True,
            logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=False),
            # No timeout= here: CDK drops it for a definition from a file, so the execution
            # timeout is TimeoutSeconds in the ASL itself.
        )
        for spec in ALL_FUNCTIONS:
            if spec.asl_placeholder:
                functions[spec.key].grant_invoke(self.state_machine)

    def grant_task_response(self, grantee: iam.IGrantable) -> None:
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=[
                "states:SendTaskSuccess",
                "states:SendTaskFailure",
                "states:SendTaskHeartbeat",
            ],
            resource_arns=[self.arn],
        )

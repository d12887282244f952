"""The console's session check: API Gateway's Lambda REQUEST authorizer on every console route.

It reads the session cookie from the Cookie header (the authorizer's identity source), has
Cognito validate the access token (GetUser checks signature, expiry and revocation), and reads
the user's groups: revops wins over manager; neither is a Deny (API Gateway answers 403). A
missing, bad or expired session raises ``Exception("Unauthorized")``, which is how a Lambda
authorizer makes API Gateway answer 401. The policy covers every console method, because API
Gateway caches it per Cookie header (CONSOLE_AUTH_CACHE_SECONDS) and reuses it on each route.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerRequestEvent,
    APIGatewayAuthorizerResponse,
    HttpVerb,
)

from handoff.aws.cognito import CognitoSessions
from handoff.console.scope import MANAGER, REVOPS
from handoff.console.session import cookie_value
from handoff.errors import Unauthorized
from handoff.observability import logger

# The console's resources in the policy: /console and everything under it, every method.
CONSOLE_RESOURCE = "console*"
# The groups that open the console, strongest first.
ROLES = (REVOPS, MANAGER)
# API Gateway's documented way for a Lambda authorizer to answer 401.
UNAUTHORIZED = "Unauthorized"


def role_of(groups: list[str]) -> str | None:
    return next((role for role in ROLES if role in groups), None)


def authorize(event: dict[str, Any], cognito: CognitoSessions) -> dict[str, Any]:
    """The authorizer's answer for one request: an Allow or Deny policy with the viewer in its
    context, or ``Exception("Unauthorized")`` raised for no valid session."""
    request = APIGatewayAuthorizerRequestEvent(event)
    token = cookie_value(request.headers.get("cookie") if event.get("headers") else None)
    if not token:
        raise Exception(UNAUTHORIZED)
    try:
        user = cognito.user(token)
    except Unauthorized:
        logger.info("console session refused")
        raise Exception(UNAUTHORIZED) from None
    role = role_of(cognito.groups(user.username))
    policy = APIGatewayAuthorizerResponse.from_route_arn(
        request.method_arn,
        principal_id=user.username,
        context={"username": user.username, "email": user.email, "role": role} if role else None,
    )
    if role is None:
        logger.info("console session without a console group")
        policy.deny_route(HttpVerb.ALL.value, CONSOLE_RESOURCE)
    else:
        policy.allow_route(HttpVerb.ALL.value, CONSOLE_RESOURCE)
    return policy.asdict()

"""The ops console's sign-in: a Cognito user pool with the revops and manager groups, and the
app client the console function signs people in with (docs/deploy.md, "The ops console")."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_iam as iam
from cdk_nag import NagPackSuppression, NagSuppressions
from constructs import Construct

from handoff.console.scope import MANAGER, REVOPS

# The console's roles: RevOps sees and changes everything; a manager only their own team (the
# reps whose manager_email is the signed-in user's email).
GROUPS = {
    REVOPS: "RevOps: every lead and rep in the console",
    MANAGER: "Sales managers: their own team's reps and leads (reps.manager_email = the user's email)",
}
# One session: the console's cookie carries the access token and nothing refreshes it, so a
# session ends when the token does. The refresh token Cognito still issues is discarded; its
# validity is Cognito's minimum (and no shorter than the access token's, as CDK requires).
TOKEN_VALIDITY = Duration.hours(1)
REFRESH_TOKEN_VALIDITY = Duration.hours(1)


class Console(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.user_pool = cognito.UserPool(
            self,
            "UserPool",
            user_pool_name=f"{stack.stack_name}-console",
            # People are invited by an administrator (admin-create-user), never sign themselves up.
            self_sign_up_enabled=False,
            sign_in_aliases=cognito.SignInAliases(email=True, username=False),
            sign_in_case_sensitive=False,
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            standard_attributes=cognito.StandardAttributes(
                email=cognito.StandardAttribute(required=True, mutable=True)
            ),
            password_policy=cognito.PasswordPolicy(
                min_length=12,
                require_lowercase=True,
                require_uppercase=True,
                require_digits=True,
                require_symbols=True,
                temp_password_validity=Duration.days(3),
            ),
            # Off until the console's sign-in answers MFA challenges (see the COG2 suppression).
            mfa=cognito.Mfa.OFF,
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            feature_plan=cognito.FeaturePlan.ESSENTIALS,
            # The people and their groups are the console's access list: kept if the stack goes.
            deletion_protection=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.groups = {
            name: cognito.UserPoolGroup(
                self, f"Group-{name}", user_pool=self.user_pool, group_name=name, description=description
            )
            for name, description in GROUPS.items()
        }
        # A public client (no secret): the console function calls InitiateAuth with
        # USER_PASSWORD_AUTH itself, so the password goes browser -> our API -> Cognito over TLS
        # and no client secret has to be stored, rotated or read. The Admin* flows would need
        # IAM on the console's role instead; the public flow needs none.
        self.client = self.user_pool.add_client(
            "ConsoleClient",
            user_pool_client_name=f"{stack.stack_name}-console",
            generate_secret=False,
            auth_flows=cognito.AuthFlow(user_password=True),
            disable_o_auth=True,
            prevent_user_existence_errors=True,
            enable_token_revocation=True,
            access_token_validity=TOKEN_VALIDITY,
            id_token_validity=TOKEN_VALIDITY,
            refresh_token_validity=REFRESH_TOKEN_VALIDITY,
        )
        NagSuppressions.add_resource_suppressions(
            self.user_pool,
            [
                NagPackSuppression(
                    id="AwsSolutions-COG2",
                    reason="MFA is off: the console's sign-in answers NEW_PASSWORD_REQUIRED for invited "
                    "users but no MFA challenge yet, so requiring MFA would lock every user out, and "
                    "optional MFA would lock out whoever enrolled. The pool is invite-only (no self "
                    "sign-up) with a 12-character mixed password policy, sessions last an hour, and "
                    "the stage is throttled. Switch to REQUIRED (TOTP) once the console runs MFA_SETUP "
                    "and SOFTWARE_TOKEN_MFA (docs/deploy.md section 12).",
                ),
                NagPackSuppression(
                    id="AwsSolutions-COG8",
                    reason="The Plus feature plan (threat protection) is not used: its risk analysis "
                    "needs each user's IP address, which a server-side sign-in can pass only through "
                    "an app client with a secret (EnablePropagateAdditionalUserContextData); here every "
                    "sign-in would come from Lambda's addresses. The pool has a strong password "
                    "policy, no self sign-up, user-existence errors off, and the API stage is "
                    "throttled. Plus is also billed per monthly active user.",
                ),
            ],
        )

    def grant_list_groups(self, grantee: iam.IGrantable) -> None:
        """The authorizer reads the signed-in user's groups (AdminListGroupsForUser), on this
        pool only. GetUser with the user's access token needs no IAM (token-authorized)."""
        self.user_pool.grant(grantee, "cognito-idp:AdminListGroupsForUser")

"""The bucket the monthly tuning job writes its reports and proposed configs to."""

from __future__ import annotations

from typing import cast

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_s3 as s3
from cdk_nag import NagPackSuppression, NagSuppressions
from constructs import Construct

# Reports are a monthly paper trail: keep two years, then let them go.
REPORT_RETENTION = Duration.days(730)


class Reports(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            removal_policy=RemovalPolicy.RETAIN,
            lifecycle_rules=[
                s3.LifecycleRule(expiration=REPORT_RETENTION, noncurrent_version_expiration=Duration.days(30))
            ],
        )
        no_access_logs = (
            "One function writes a few reports a month and people read them in the console; server "
            "access logs would need a second bucket to audit almost no traffic. Enable CloudTrail S3 "
            "data events if your policy requires an access trail."
        )
        NagSuppressions.add_resource_suppressions(
            self.bucket, [NagPackSuppression(id="AwsSolutions-S1", reason=no_access_logs)]
        )
        cast(s3.CfnBucket, self.bucket.node.default_child).add_metadata(
            "checkov", {"skip": [{"id": "CKV_AWS_18", "comment": no_access_logs}]}
        )

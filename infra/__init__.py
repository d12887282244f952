"""The CDK app: one stack built from one construct per capability."""

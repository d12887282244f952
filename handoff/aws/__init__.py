"""AWS adapters: the one place service code meets boto3 and botocore (ports in handoff.service.ports).

Storage sits behind small repository classes (leads, reps, accounts, dispositions);
ClientError stops here. The workflow, queue and mailer adapters live alongside.
"""

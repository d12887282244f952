"""AWS adapters: the one place service code meets boto3 and botocore (ports in handoff.service.ports)."""

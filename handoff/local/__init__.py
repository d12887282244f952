"""The local stack: the whole system on one machine, on moto, with no AWS account."""

"""Readiness: what AWS will need at the first deploy and the first request, checked from the plan alone.

Stack policies over provider types and properties (no knowledge of components): the execution role's
image pulls, secret reads, KMS decrypts and log writes (IAM documents evaluated, `_iam`); the network
paths (tasks to AWS APIs, load balancer to targets, load balancer to an identity provider, `_net`);
and the account's one-per-region Config recorder. What each needs, and the AWS error its absence
causes, is declared once in `_needs`.
"""

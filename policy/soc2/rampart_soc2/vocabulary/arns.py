"""Shapes of AWS ARNs that the components refuse and the pack reports alike."""
from __future__ import annotations

import re

#: A complete Secrets Manager secret ARN: the name, then the '-' and six characters Secrets Manager
#: appends, then optionally `:json-key:version-stage:version-id`. Secrets Manager resolves a partial ARN
#: (no suffix), but IAM matches a policy's Resource, and KMS the `SecretARN` encryption context, against
#: the complete one: a grant on a partial ARN grants nothing. WebService and the sidecar's brought
#: certificate refuse one; the readiness policy on secret access reports one.
COMPLETE_SECRET_ARN = re.compile(r"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[^:]+-[A-Za-z0-9]{6}(:.*)?$")

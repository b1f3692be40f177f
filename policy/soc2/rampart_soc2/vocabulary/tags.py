"""Tags the components write and the pack's policies read: the pack sees resource types and properties
only, so a fact the components know (a route is private, a secret's key, the recorder a rule needs)
reaches it as a tag on the resource."""
from __future__ import annotations

#: On every listener rule of a route entry marked `private` (value `true`): the rule must sign users in
#: or match a source-ip condition (policy aws-lb-listenerrule-require-private-access).
PRIVATE_ROUTE_TAG = "rampart-private-route"

#: Tag on every AWS Config rule Rampart deploys: the name of the configuration recorder that evaluates it,
#: either an `aws:cfg/recorder:Recorder` of the same stack or one the stack declares (owned elsewhere and
#: looked up at deploy). A stack policy reads it to see that each rule has a recorder.
CONFIG_RECORDER_TAG = "rampart-config-recorder"

#: Tag on a task definition stating the KMS key of a secret the stack did not create:
#: `rampart-secret-kms-key:<container secret name>` = the key's ARN. WebService writes it from
#: `secret_kms_key_arns`; the readiness policy on secret access reads it.
SECRET_KEY_TAG_PREFIX = "rampart-secret-kms-key:"

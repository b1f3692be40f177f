"""What AWS needs at the first deploy and first request: the one owner of the readiness action lists,
ports, endpoint services and markers. Each entry names the AWS error its absence causes.

Action names and resource-level scoping follow AWS's Service Authorization Reference (ECR, Secrets
Manager, KMS, CloudWatch Logs) and the ECS task execution role page:
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html
"""
from __future__ import annotations

from ..vocabulary.tags import SECRET_KEY_TAG_PREFIX  # noqa: F401  (re-exported: declared with the tags the components write)

#: ECR's token call has no resource-level permission: it must be allowed on "*".
ECR_AUTH_ACTION = "ecr:GetAuthorizationToken"
#: Image and layer reads, allowed on the image's repository ARN.
ECR_PULL_ACTIONS = ("ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage")
ECR_PULL_ERROR = ("CannotPullContainerError / ResourceInitializationError: unable to pull secrets or registry auth "
                  "(AccessDeniedException on ecr:GetAuthorizationToken or ecr:BatchGetImage)")

SECRET_READ_ACTION = "secretsmanager:GetSecretValue"
KMS_DECRYPT_ACTION = "kms:Decrypt"
SECRET_ERROR = ("ResourceInitializationError: unable to pull secrets or registry auth ... AccessDeniedException "
                "(secretsmanager:GetSecretValue or kms:Decrypt)")

LOG_WRITE_ACTIONS = ("logs:CreateLogStream", "logs:PutLogEvents")
#: What the CloudWatch Logs service principal uses on a log group's key (AWS: encrypt-log-data-kms).
LOGS_KEY_ACTIONS = ("kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:GenerateDataKey",
                    "kms:DescribeKey")
LOG_ERROR = ("ResourceInitializationError: failed to validate logger args ... AccessDeniedException "
             "(logs:CreateLogStream), or CreateLogGroup/AssociateKmsKey: 'The specified KMS key does not exist or "
             "is not allowed to be used'")

#: Interface endpoints a task in a private subnet needs without NAT, and the gateway endpoint for layers.
INTERFACE_ENDPOINT_SERVICES = ("ecr.api", "ecr.dkr", "logs")
GATEWAY_ENDPOINT_SERVICES = ("s3",)
HTTPS_PORT = 443
NETWORK_ERROR = ("ResourceInitializationError: unable to pull registry auth ... dial tcp ...:443: i/o timeout "
                 "(no route or security-group egress to ECR, S3 or CloudWatch Logs)")

TARGET_PATH_ERROR = "targets fail health checks (Request timed out) and the ALB answers 502/503/504"
IDP_EGRESS_ERROR = ("users get HTTP 500 or 561 after signing in: the ALB cannot reach the identity provider's token "
                    "and user-info endpoints")
RECORDER_ERROR = "PutConfigRule fails with NoAvailableConfigurationRecorderException"


#: AWS managed policies an execution role may attach, by ARN suffix, with the document AWS publishes
#: (the plan holds only the attachment's ARN). Any other managed policy not in the plan is unreadable.
AWS_MANAGED_POLICIES = {
    "policy/service-role/AmazonECSTaskExecutionRolePolicy": {
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Action": ["ecr:GetAuthorizationToken", "ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer",
                       "ecr:BatchGetImage", "logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": "*",
        }],
    },
    "policy/AdministratorAccess": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]},
}

#: SSM parameters referenced as secrets: ECS reads them with this action (their key is not judged).
SSM_READ_ACTION = "ssm:GetParameters"
#: A secret without a customer-managed key uses this AWS managed key, which needs no IAM grant.
AWS_MANAGED_SECRETS_KEY = "aws/secretsmanager"

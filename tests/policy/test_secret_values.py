"""The one secret-by-value detector: a corpus of credentials (found) and ordinary values (not found).

Key-looking text is built from pieces or generated at test time, so none sits in git for scanners.
"""
from __future__ import annotations

import json
import os
import random
import re
import string
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from rampart.offline.state import REDACTED_MARKS
from rampart_soc2.vocabulary.secret_values import REDACTED, redact, secret_kind

_RNG = random.Random(20261130)


def rand(n: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    """Random text that has all three character classes (what a generated key looks like)."""
    while True:
        text = "".join(_RNG.choice(alphabet) for _ in range(n))
        if any(c.islower() for c in text) and any(c.isupper() for c in text) and any(c.isdigit() for c in text):
            return text


HEX = "0123456789abcdef"
PEM = "-----BEGIN " + "PRIVATE KEY-----"
AWS_KEY_ID = "AK" + "IA" + "Q4RT" + "7ZXW" + "2PLM" + "9KJN"
AWS_SECRET = rand(40, string.ascii_letters + string.digits + "+/")
JWT = "ey" + "JhbGciOiJIUzI1NiJ9" + ".ey" + "JzdWIiOiIxMjM0NTY3ODkwIn0" + "." + rand(43, string.ascii_letters + string.digits + "_-")

SECRETS = {
    "url-userinfo": "postgres://app:" + "pw-" + rand(10) + "@db.internal:5432/shop",
    "url-userinfo-short-password": "postgres://user:" + "pass" + "@host/db",
    "url-password-no-user": "redis://:" + "hunter" + "2@cache.internal:6379/0",
    "amqp-userinfo": "amqps://svc:" + "Tr0ub4dor" + "@mq.example.com/vhost",
    "pem-private-key": PEM + "\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n",
    "pem-ec-private-key": "-----BEGIN EC " + "PRIVATE KEY-----",
    "aws-access-key-id": AWS_KEY_ID,
    "aws-secret-access-key": AWS_SECRET,
    "aws-pair": f"{AWS_KEY_ID}:{AWS_SECRET}",
    "bearer-token": "Bearer " + rand(32),
    "jwt": JWT,
    "github-token": "gh" + "p_" + rand(36),
    "random-32": rand(32),
    "random-base64url-48": rand(48, string.ascii_letters + string.digits + "-_"),
    "token-in-query": "https://api.example.com/v1/send?key=" + rand(32),
    "token-in-webhook-path": "https://hooks.example.com/services/T0000/B0000/" + rand(24),
}

ORDINARY = {
    "https-url": "https://api.example.com/v1/items?limit=10&sort=desc",
    "url-with-user-only": "https://deploy@git.example.com/shop.git",
    "url-with-password-placeholder": "postgres://app:${DB_PASSWORD}@db.internal:5432/shop",
    "url-with-port": "postgresql://db.internal:5432/shop?sslmode=verify-full",
    "secret-arn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf",
    "role-arn": "arn:aws:iam::123456789012:role/service-role/ShopTaskExecutionRoleProduction2024",
    "image-digest": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/web@sha256:" + "".join(_RNG.choice(HEX) for _ in range(64)),
    "uuid": "123e4567-e89b-12d3-a456-426614174000",
    "hostname": "ip-10-0-1-23.eu-west-1.compute.internal",
    "dns-name": "shop-prod-alb-1234567890.eu-west-1.elb.amazonaws.com",
    "version": "20.11.1-bookworm-slim",
    "semver": "v1.2.3-rc.4+build.5",
    "timestamp": "2026-11-30T12:00:00Z",
    "commit-id": "".join(_RNG.choice(HEX) for _ in range(40)),
    "log-level": "info",
    "number": "8080",
    "boolean": "true",
    "path": "/usr/local/lib/node_modules/npm/bin/npm-cli.js",
    "asset-url": "https://cdn.example.com/static/js/main.8f3a2b1c.chunk.js",
    "java-class": "com.example.AbstractSingletonProxyFactoryBean2024",
    "identifier": "getUserProfileSettingsForAccount42V2",
    "node-options": "--max-old-space-size=4096 --enable-source-maps",
    "user-agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    "timezone": "Europe/Amsterdam",
    "cidr": "10.0.0.0/16",
    "email": "ops@example.com",
}


@pytest.mark.parametrize("name", sorted(SECRETS))
def test_credential_is_found_by_value(name: str) -> None:
    kind = secret_kind(SECRETS[name])
    assert kind is not None, f"{name}: not found"
    assert SECRETS[name] not in kind, "the finding must never echo the value"


@pytest.mark.parametrize("name", sorted(ORDINARY))
def test_ordinary_value_is_not_a_secret(name: str) -> None:
    assert secret_kind(ORDINARY[name]) is None, f"{name}: {ORDINARY[name]!r} flagged as {secret_kind(ORDINARY[name])}"


def test_kinds_name_what_was_found() -> None:
    assert secret_kind(SECRETS["url-userinfo"]) == "a password in a URL (scheme://user:password@host)"
    assert secret_kind(SECRETS["pem-private-key"]) == "a PEM private key"
    assert secret_kind(AWS_KEY_ID) == "an AWS access key id"
    assert secret_kind(AWS_SECRET) == "an AWS secret access key"
    assert secret_kind(JWT) == "a JSON Web Token"
    assert secret_kind(SECRETS["bearer-token"]) == "a bearer token"


def test_redact_walks_containers_and_json_strings() -> None:
    defs = [{"name": "app", "environment": [{"name": "DATABASE_URL", "value": SECRETS["url-userinfo"]},
                                             {"name": "LOG_LEVEL", "value": "info"}]}]
    inputs = {"family": "web", "containerDefinitions": json.dumps(defs), "tags": {"a": AWS_KEY_ID}}
    out = redact(inputs)
    env = json.loads(out["containerDefinitions"])[0]["environment"]
    assert env == [{"name": "DATABASE_URL", "value": REDACTED}, {"name": "LOG_LEVEL", "value": "info"}]
    assert out["tags"] == {"a": REDACTED} and out["family"] == "web"
    untouched = {"containerDefinitions": json.dumps([{"name": "app", "environment": [{"name": "A", "value": "b"}]}])}
    assert redact(untouched) == untouched, "JSON without secrets is kept byte for byte"


@pytest.mark.parametrize("name", ["DB_PASSWORD", "apiKey", "STRIPE_API_KEY", "CLIENT_SECRET", "NPM_TOKEN",
                                  "AWS_SECRET_ACCESS_KEY", "PRIVATE_KEY", "AUTHORIZATION", "githubAuthToken"])
def test_secret_looking_names(name: str) -> None:
    from rampart_soc2.vocabulary.secret_values import secret_name

    assert secret_name(name), name


@pytest.mark.parametrize("name", ["DB_SECRET_ARN", "TOKEN_FILE", "PASSWORD_PATH", "TOKEN_URL", "SECRETS_DIR",
                                  "KEYBOARD", "MONKEY", "LOG_LEVEL", "AUTH_MODE", "DATABASE_URL", "TOKENIZER_MODEL_X"])
def test_names_that_point_at_secrets_or_hold_none(name: str) -> None:
    from rampart_soc2.vocabulary.secret_values import secret_name

    assert not secret_name(name), name


# --- AWS names are not secrets (issue 20 item 8) -------------------------------------------------
# Real values as AWS documents them; the entropy test judged several of these "a long random-looking
# string", so `rampart plan --json` wrote every `sslPolicy` as a redaction marker.
DIGEST_HEX = "".join(_RNG.choice(HEX) for _ in range(64))
AWS_NAMES = {
    # ELB security policies (load_balancer.tls_policy and its allowed set)
    "elb-tls13-1-2": "ELBSecurityPolicy-TLS13-1-2-2021-06",
    "elb-tls13-1-2-res": "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
    "elb-fs-1-2-res-2020": "ELBSecurityPolicy-FS-1-2-Res-2020-10",
    "elb-fs-1-2-res-2019": "ELBSecurityPolicy-FS-1-2-Res-2019-08",
    "elb-tls13-1-2-ext2": "ELBSecurityPolicy-TLS13-1-2-Ext2-2021-06",
    "elb-tls13-1-2-ext1": "ELBSecurityPolicy-TLS13-1-2-Ext1-2021-06",
    "elb-tls13-1-3": "ELBSecurityPolicy-TLS13-1-3-2021-06",
    "elb-tls13-1-0": "ELBSecurityPolicy-TLS13-1-0-2021-06",
    "elb-tls13-fips": "ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04",
    "elb-tls-1-2-ext": "ELBSecurityPolicy-TLS-1-2-Ext-2018-06",
    "elb-fs-1-1": "ELBSecurityPolicy-FS-1-1-2019-08",
    "elb-2016": "ELBSecurityPolicy-2016-08",
    # WAF managed rule groups and their rules
    "waf-common": "AWSManagedRulesCommonRuleSet",
    "waf-known-bad-inputs": "AWSManagedRulesKnownBadInputsRuleSet",
    "waf-sqli": "AWSManagedRulesSQLiRuleSet",
    "waf-ip-reputation": "AWSManagedRulesAmazonIpReputationList",
    "waf-anonymous-ip": "AWSManagedRulesAnonymousIpList",
    "waf-linux": "AWSManagedRulesLinuxRuleSet",
    "waf-bot-control": "AWSManagedRulesBotControlRuleSet",
    "waf-admin-protection": "AWSManagedRulesAdminProtectionRuleSet",
    "waf-atp": "AWSManagedRulesATPRuleSet",
    "waf-metric-name": "AWS-AWSManagedRulesCommonRuleSet",
    "waf-rule-size-body": "SizeRestrictions_BODY",
    "waf-rule-xss-query": "CrossSiteScripting_QUERYARGUMENTS",
    "waf-rule-ssrf": "EC2MetaDataSSRF_BODY",
    # CloudWatch metric names and namespaces
    "metric-target-5xx": "HTTPCode_Target_5XX_Count",
    "metric-elb-502": "HTTPCode_ELB_502_Count",
    "metric-response-time": "TargetResponseTime",
    "metric-unhealthy": "UnHealthyHostCount",
    "metric-tls-errors": "ClientTLSNegotiationErrorCount",
    "metric-cpu": "CPUUtilization",
    "metric-sqs-visible": "ApproximateNumberOfMessagesVisible",
    "metric-sns-failed": "NumberOfNotificationsFailed",
    "metric-waf-blocked": "BlockedRequests",
    "namespace-alb": "AWS/ApplicationELB",
    "namespace-container-insights": "ECS/ContainerInsights",
    # ARNs
    "arn-alb": "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/shop-prod/50dc6c495c0c9188",
    "arn-kms": "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    "arn-managed-rule-set": "arn:aws:wafv2:eu-west-1:123456789012:regional/managedruleset/AWS/"
                            "AWSManagedRulesCommonRuleSet/a1b2c3d4-5678-90ab-cdef-EXAMPLE11111",
    "arn-task-definition": "arn:aws:ecs:eu-west-1:123456789012:task-definition/shop-web:42",
    "arn-managed-policy": "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy",
    "arn-gov-bucket": "arn:aws-us-gov:s3:::shop-gov-logs",
    "arn-china-repository": "arn:aws-cn:ecr:cn-north-1:123456789012:repository/shop/web",
    # endpoints and host names
    "endpoint-secretsmanager": "https://secretsmanager.eu-west-1.amazonaws.com",
    "endpoint-service-name": "com.amazonaws.eu-west-1.ecr.dkr",
    "endpoint-vpce-dns": "vpce-0a1b2c3d4e5f67890-abcdefgh.ecr.dkr.eu-west-1.vpce.amazonaws.com",
    "endpoint-rds-cluster": "shop-prod.cluster-c9akciq32abc.eu-west-1.rds.amazonaws.com",
    "endpoint-sqs-queue": "https://sqs.eu-west-1.amazonaws.com/123456789012/shop-orders",
    "endpoint-internal-alb": "internal-shop-prod-alb-1234567890.eu-west-1.elb.amazonaws.com",
    "endpoint-cloudfront": "d111111abcdef8.cloudfront.net",
    "endpoint-api-gateway": "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/prod",
    # resource ids
    "id-security-group": "sg-0123456789abcdef0",
    "id-subnet-docs": "subnet-0bb1c79de3EXAMPLE",
    "id-vpc": "vpc-0a1b2c3d4e5f67890",
    "id-instance": "i-1234567890abcdef0",
    "id-eni": "eni-0123456789abcdef0",
    "id-nat-gateway": "nat-08d48af2a8e83edfd",
    "id-route-table": "rtb-0fedcba9876543210",
    "id-ami": "ami-0abcdef1234567890",
    "id-tgw-attachment": "tgw-attach-0123456789abcdef0",
    "id-prefix-list": "pl-6da54004",
    "id-hosted-zone-cloudfront": "Z2FDTNDATAQYW2",
    "id-hosted-zone-elb": "Z32O12XQLNTSW2",
    "id-cognito-pool": "eu-west-1_aBcDeFgHi",
    "id-az": "euw1-az1",
    "id-role-unique": "AROADBQP57FF2AEXAMPLE",
    "id-user-unique": "AIDACKCEVSQ6C2EXAMPLE",
    "id-xray-trace": "1-5759e988-bd862e3fe1be46a994272793",
    "header-xray-trace": "Root=1-67891233-abcdef012345678912345678;Self=1-67891233-0123456789abcdef01234567",
    # KMS key ids and account ids
    "kms-key-id": "1234abcd-12ab-34cd-56ef-1234567890ab",
    "kms-multi-region-key-id": "mrk-1234abcd12ab34cd56ef1234567890ab",
    "kms-alias": "alias/aws/secretsmanager",
    "kms-key-spec": "SYMMETRIC_DEFAULT",
    "account-id": "123456789012",
    "account-id-docs": "111122223333",
    # digests and image references by digest
    "digest": "sha256:" + DIGEST_HEX,
    "image-ecr-by-digest": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop/web@sha256:" + DIGEST_HEX,
    "image-public-ecr-by-digest": "public.ecr.aws/docker/library/nginx@sha256:" + DIGEST_HEX,
    # other AWS names a program sets
    "managed-policy-name": "AmazonECSTaskExecutionRolePolicy",
    "service-linked-role": "AWSServiceRoleForElasticLoadBalancing",
    "ssm-public-parameter": "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id",
    "log-group-container-insights": "/aws/ecs/containerinsights/shop-prod/performance",
    "log-group-waf": "aws-waf-logs-shop-prod",
    "capacity-provider": "FARGATE_SPOT",
    "cloudfront-tls-policy": "TLSv1.2_2021",
    "schedule-cron": "cron(0 12 * * ? *)",
    "schedule-rate": "rate(5 minutes)",
}


def test_the_aws_corpus_is_large_enough() -> None:
    assert len(AWS_NAMES) >= 50 and len(set(AWS_NAMES.values())) == len(AWS_NAMES)


@pytest.mark.parametrize("name", sorted(AWS_NAMES))
def test_aws_name_is_not_a_secret(name: str) -> None:
    value = AWS_NAMES[name]
    assert secret_kind(value) is None, f"{name}: {value!r} flagged as {secret_kind(value)}"
    assert redact({"setting": value}) == {"setting": value}, f"{name}: redacted"


def test_no_tls_policy_the_load_balancer_allows_is_a_secret() -> None:
    from rampart.components.load_balancer import ALLOWED_TLS_POLICIES

    flagged = {name: secret_kind(name) for name in ALLOWED_TLS_POLICIES if secret_kind(name) is not None}
    assert flagged == {}


def test_an_elb_policy_prefix_cannot_hide_a_key() -> None:
    """Only the policy name is taken out before the entropy test: a key next to one, even glued to it
    with a hyphen, is still found."""
    key = rand(32)
    for joined in (" ", ";", "-", ","):
        value = "ELBSecurityPolicy-TLS13-1-2-2021-06" + joined + key
        assert secret_kind(value) is not None, f"a key after {joined!r} passed as part of the policy name"
    # A policy's spelling around a key: the name's segments are short words, so the key is not taken out with it.
    secret_key = rand(40)  # an AWS secret access key's shape, found on its own
    inside = "ELBSecurityPolicy-" + secret_key + "-2021-06"
    assert secret_kind(inside) == "an AWS secret access key", "a key between a policy prefix and a date passed"


# --- key=value forms are secrets (issue 20 item 8) ----------------------------------------------
PW = "hunter" + "2"  # obviously fake, shaped like a password
KEY_VALUE_SECRETS = {
    "env-line-query-string": "DATABASE_URL=postgres://db:5432/shop?user=shop&pass" + f"word={PW}",
    "query-string": f"postgres://db:5432/shop?user=shop&password={PW}",
    "jdbc-query-string": f"jdbc:mysql://db.internal:3306/shop?user=shop&password={PW}&useSSL=true",
    "ado-connection-string": f"Server=db;User Id=shop;Password={PW};",
    "ado-connection-string-pwd": f"Server=tcp:db.example.com,1433;Database=shop;Uid=shop;Pwd={PW};Encrypt=true",
    "libpq-keywords": f"host=db.internal port=5432 dbname=shop user=shop password={PW} sslmode=verify-full",
    "libpq-quoted": "host=db user=shop password='correct horse battery' dbname=shop",
    "spaces-around-equals": f"Server = db; Password = {PW};",
    "upper-case-key": f"PASSWORD={PW}",
    "secret": f"https://api.example.com/v1/hook?id=42&secret={PW}",
    "token": f"https://hooks.example.com/notify?token={PW}abc",
    "api_key": f"https://api.example.com/v1/orders?api_key={PW}xyz",
    "apikey": f"https://maps.example.com/tiles?apikey={PW}xyz&z=4",
    "access_key-and-secret_key": f"s3://shop-exports?access_key=shop-export&secret_key={PW}",
    "client_secret": f"grant_type=client_credentials&client_id=shop&client_secret={PW}",
    "auth_token": f"auth_token={PW}",
    "db_pass": f"db_pass={PW}",
    "command-line-option": f"--password={PW}",
    "command-line-token": f"--api-token={PW}",
    "azure-account-key": f"DefaultEndpointsProtocol=https;AccountName=shop;AccountKey={PW}==;EndpointSuffix=core.windows.net",
    "azure-shared-access-key": f"Endpoint=sb://shop.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey={PW}",
    "azure-sas-sig": f"https://shop.blob.core.windows.net/c/b.txt?sv=2022-11-02&sp=r&sig={PW}",
    "s3-presigned-signature": "https://shop-uploads.s3.eu-west-1.amazonaws.com/a.png?X-Amz-Algorithm=AWS4-HMAC-SHA256"
                              "&X-Amz-Expires=300&X-Amz-Signature=" + "".join(_RNG.choice(HEX) for _ in range(64)),
    "s3-presigned-security-token": f"https://shop-uploads.s3.amazonaws.com/a.png?X-Amz-Security-Token={PW}",
    "url-userinfo-mysql": f"mysql://shop:{PW}@db.internal:3306/shop",
}


def test_the_key_value_corpus_is_large_enough() -> None:
    assert len(KEY_VALUE_SECRETS) >= 20


@pytest.mark.parametrize("name", sorted(KEY_VALUE_SECRETS))
def test_key_value_secret_is_found(name: str) -> None:
    value = KEY_VALUE_SECRETS[name]
    kind = secret_kind(value)
    assert kind is not None, f"{name}: {value!r} not found"
    assert PW not in kind and "correct horse" not in kind, f"{name}: the finding echoes the value: {kind}"
    assert redact({"setting": value}) == {"setting": REDACTED}, f"{name}: written in clear"


def test_key_value_kind_names_the_key_not_the_value() -> None:
    assert secret_kind(KEY_VALUE_SECRETS["ado-connection-string"]) == "a secret in a key=value pair (Password=...)"
    assert secret_kind(KEY_VALUE_SECRETS["env-line-query-string"]) == "a secret in a key=value pair (password=...)"


KEY_VALUE_ORDINARY = {
    "placeholder-dollar": "postgres://db:5432/shop?user=shop&password=${DB_PASSWORD}",
    "placeholder-template": "Server=db;User Id=shop;Password={{ db_password }};",
    "placeholder-angle": "password=<your password>",
    "placeholder-stars": "Password=****;",
    "empty-value": "Server=db;User Id=shop;Password=;",
    "empty-quoted-value": "host=db user=shop password='' dbname=shop",
    "pointer-key-file": "password_file=/run/secrets/db",
    "pointer-key-arn": "token_arn=arn:aws:secretsmanager:eu-west-1:123456789012:secret:shop/api-AbCdEf",
    "ordinary-keys": "host=db.internal port=5432 dbname=shop user=shop sslmode=verify-full connect_timeout=10",
    "ordinary-connection-string": "Server=db;Database=shop;Integrated Security=true;Encrypt=true;",
    "shared-access-key-name-only": "Endpoint=sb://shop.servicebus.windows.net/;SharedAccessKeyName=send",
    "key-without-equals": "password reset link expires in 24 hours",
    "pwd-is-a-directory-outside-pairs": "cd $PWD && make",
    # A setting about a secret holds none: the key's last word is not a secret word.
    "setting-about-passwords": "password_min_length=12&password_max_age_days=90",
    "setting-about-tokens": "--token-expiry=3600 --session-timeout=900",
    "java-property-about-tokens": "-Djwt.token.validity=3600 -Dspring.profiles.active=prod",
}


@pytest.mark.parametrize("name", sorted(KEY_VALUE_ORDINARY))
def test_key_value_without_a_secret_passes(name: str) -> None:
    value = KEY_VALUE_ORDINARY[name]
    assert secret_kind(value) is None, f"{name}: {value!r} flagged as {secret_kind(value)}"


@pytest.mark.parametrize(("value", "found"), [
    ("Password=;", False),                          # no value
    ("Password=a;", True),                          # one character: the shortest password is still one
    ("password='" + "a" * 256 + "'", True),         # a quoted value at the 256 characters read
    ("password='" + "a" * 257 + "'", True),         # one past: still a value, read for 256 characters
    ('password="' + "correct horse " * 30 + '"', True),  # a long passphrase (low entropy: only its key says so)
    ("password=" + "a" * 257, True),                # unquoted, one past the window
], ids=["empty", "one-char", "quoted-256", "quoted-257", "quoted-passphrase-420", "unquoted-257"])
def test_key_value_length_boundaries(value: str, found: bool) -> None:
    assert (secret_kind(value) is not None) is found, f"{value[:40]!r}... ({len(value)} characters)"


@pytest.mark.parametrize("value", ["a" * 100_000, "a-" * 50_000, "a=" * 50_000, "a." * 50_000],
                         ids=["one-word", "hyphenated", "pairs", "dotted"])
def test_a_long_value_is_judged_in_linear_time(value: str) -> None:
    """`rampart plan --json` judges every input string: the URL and key=value scans start only at
    word starts and read at most 256 characters of a value, so 100,000 characters take about a
    second (a scan from every position took minutes)."""
    started = time.monotonic()
    secret_kind(value)
    assert time.monotonic() - started < 10, "the detector is quadratic in the value's length"


# --- temporary and other AWS access key ids (issue 25, item 2) ----------------------------------
@pytest.mark.parametrize("prefix", ["AKIA", "ASIA", "ABIA", "ACCA"])
def test_every_access_key_id_prefix_is_found(prefix: str) -> None:
    """ASIA (STS temporary keys) is 20 characters: too short for the entropy test, only the pattern finds it."""
    key_id = prefix + "Q4RT" + "7ZXW" + "2PLM" + "9KJN"
    assert secret_kind(key_id) == "an AWS access key id", key_id
    assert secret_kind(f"export AWS_ACCESS_KEY_ID={key_id}") is not None


@pytest.mark.parametrize(("suffix_length", "found"), [(15, False), (16, True), (17, False)])
def test_access_key_id_length_boundary(suffix_length: int, found: bool) -> None:
    """An access key id is the prefix and exactly 16 more characters."""
    key_id = "AS" + "IA" + ("Q4RT7ZXW2PLM9KJNB"[:suffix_length])
    assert (secret_kind(key_id) is not None) is found, f"{key_id} ({len(key_id)} characters)"


# --- every checkpoint reads values with the one detector -----------------------------------------
CONNECTION_STRING = KEY_VALUE_SECRETS["ado-connection-string"]
TLS_POLICY = AWS_NAMES["elb-tls13-1-2-res"]


def _task_definition(value: str) -> Any:
    from rampart_soc2.model import make_resource

    defs = [{"name": "app", "environment": [{"name": "DB", "value": value}]}]
    return make_resource("aws:ecs/taskDefinition:TaskDefinition", "web", {"containerDefinitions": json.dumps(defs)})


def test_every_checkpoint_refuses_a_key_value_secret_and_keeps_an_aws_name() -> None:
    """The component (`environment`, `build_args`), the pack's policy, the Dockerfile check and plan
    redaction all judge a value the same way: a password in a connection string is refused, an ELB
    policy name is not."""
    from rampart.components.image import check_build_args
    from rampart.components.web_service import check_environment
    from rampart_soc2.dockerfile_checks import check_dockerfile
    from rampart_soc2.model import COMPLIANT, Violation, context_from_config, evaluate_resource
    from rampart_soc2.registry import POLICIES

    policy_id = "aws-ecs-taskdefinition-disallow-environment-secrets"
    policy, ctx = POLICIES[policy_id], context_from_config(policy_id, {})
    dockerfile = "FROM scratch\nENV DB=\"{}\"\nUSER 10001\n"

    with pytest.raises(ValueError, match="key=value pair"):
        check_environment({"DB": CONNECTION_STRING})
    with pytest.raises(ValueError, match="key=value pair"):
        check_build_args({"DB": CONNECTION_STRING})
    assert isinstance(evaluate_resource(policy, _task_definition(CONNECTION_STRING), ctx), Violation)
    assert [f.rule for f in check_dockerfile(dockerfile.format(CONNECTION_STRING))].count("no-secrets-in-env") == 1
    assert redact(CONNECTION_STRING) == REDACTED

    assert check_environment({"DB": TLS_POLICY}) == {"DB": TLS_POLICY}
    assert check_build_args({"DB": TLS_POLICY}) == {"DB": TLS_POLICY}
    assert evaluate_resource(policy, _task_definition(TLS_POLICY), ctx) == COMPLIANT
    assert "no-secrets-in-env" not in [f.rule for f in check_dockerfile(dockerfile.format(TLS_POLICY))]
    assert redact(TLS_POLICY) == TLS_POLICY


# --- `rampart plan --json` redacts secrets only --------------------------------------------------
ROOT = Path(__file__).resolve().parents[2]
STACKS = sorted(p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in (ROOT / "stacks").glob("Pulumi.*.yaml"))
#: The inputs of Rampart's own stacks that hold a secret (Pulumi secrets, written `[secret]`): the
#: registry password, the proxy's TLS key and certificate versions, and the key the TLS provider makes.
SECRET_SETTINGS = {
    ("docker:index/image:Image", "registry.password"),
    ("aws:secretsmanager/secretVersion:SecretVersion", "secretString"),
    ("tls:index/selfSignedCert:SelfSignedCert", "privateKeyPem"),
}


def _marked(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(path, marker) of every redaction marker in a plan entry's inputs, JSON strings included."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _marked(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _marked(item, f"{path}[{i}]")
    elif isinstance(value, str):
        if value in REDACTED_MARKS:
            yield path, value
        elif value[:1] in ("[", "{"):
            try:
                yield from _marked(json.loads(value), path)
            except ValueError:
                pass


@pytest.mark.parametrize("stack", STACKS)
def test_plan_json_redacts_no_setting_that_is_not_a_secret(stack: str, tmp_path: Path) -> None:
    """Every stack in stacks/: the detector's marker appears nowhere (the stack files hold no secret
    values, and the components refuse them), `[secret]` only on the secret settings above, and the
    TLS policy is written as it is."""
    out = tmp_path / "plan.json"
    result = subprocess.run([sys.executable, "-m", "rampart", "plan", "--stack", stack, "--json", str(out)], cwd=ROOT,
                            capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300)
    assert result.returncode == 0, result.stderr
    resources = json.loads(out.read_text())
    wrong = [f"{r['type']} {r['name']}: {path} is {marker!r}" for r in resources
             for path, marker in _marked(r["inputs"])
             if marker == REDACTED or (r["type"], re.sub(r"\[\d+\]", "", path)) not in SECRET_SETTINGS]
    assert wrong == [], f"{stack}: settings that are not secrets were redacted:\n" + "\n".join(wrong)
    listeners = [r for r in resources if r["type"] == "aws:lb/listener:Listener" and "sslPolicy" in r["inputs"]]
    if "rampart:environment:" in (ROOT / "stacks" / f"Pulumi.{stack}.yaml").read_text():  # it owns the ALB
        assert listeners, f"{stack}: no HTTPS listener in the plan (the check above would prove nothing)"
    for listener in listeners:
        assert listener["inputs"]["sslPolicy"].startswith("ELBSecurityPolicy-"), listener["inputs"]["sslPolicy"]

"""The one secret-by-value detector: a corpus of credentials (found) and ordinary values (not found).

Key-looking text is built from pieces or generated at test time, so none sits in git for scanners.
"""
from __future__ import annotations

import json
import random
import string

import pytest

from rampart_soc2.secret_values import REDACTED, redact, secret_kind

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
    from rampart_soc2.secret_values import secret_name

    assert secret_name(name), name


@pytest.mark.parametrize("name", ["DB_SECRET_ARN", "TOKEN_FILE", "PASSWORD_PATH", "TOKEN_URL", "SECRETS_DIR",
                                  "KEYBOARD", "MONKEY", "LOG_LEVEL", "AUTH_MODE", "DATABASE_URL", "TOKENIZER_MODEL_X"])
def test_names_that_point_at_secrets_or_hold_none(name: str) -> None:
    from rampart_soc2.secret_values import secret_name

    assert not secret_name(name), name

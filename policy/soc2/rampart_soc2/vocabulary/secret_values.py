"""Credentials found by their value, whatever the variable holding them is called (and by name).

The one detector for plain values: the pack uses it on container `environment` and Dockerfile
ENV/ARG, the stack-file and component validation on `environment`, and `rampart plan --json` to
redact. `secret_kind(value)` names what the value looks like (never echoes it) or returns None.
`secret_name(name)` is the one reading of variable names that say they hold a secret.

What counts: a password in a URL (`scheme://user:password@host`), a `key=value` pair whose key says
it holds a secret (`?password=...` in a query string, `Password=...;` in a connection string,
`--token=...`), a PEM private key, an AWS access key id (long-term `AKIA`, temporary `ASIA`, and
`ABIA`, `ACCA`) or secret access key, a bearer token or JWT, a well-known token prefix (GitHub,
Slack, Stripe, npm), and a long high-entropy string (random-looking, letters of both cases and digits).
What does not: ordinary URLs (a user name alone, or a `${VAR}` placeholder for the password), AWS
names (ARNs, ELB security policies, AWS managed rule groups, `*.amazonaws.com` endpoints, resource
ids such as `sg-...`), image digests, UUIDs, host names, version strings, and strings of hex digits
alone (commit ids and digests far more often than keys; a known gap).
"""
from __future__ import annotations

import json
import math
import re
from collections import Counter
from typing import Any

#: Replaces a secret value wherever Rampart writes inputs out (`rampart plan --json`).
REDACTED = "[redacted: looks like a secret]"

# scheme://user:password@host, the password not empty and not a placeholder such as ${DB_PASSWORD}.
# A scheme starts only where no scheme character precedes it, so a long word is scanned once.
_URL_USERINFO = re.compile(r"(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]*://[^\s/@:]*:(?P<password>[^\s/@]+)@[^\s/@]")
_PLACEHOLDER = re.compile(r"^(\$\{?[A-Za-z_][A-Za-z0-9_]*\}?|\{\{.*\}\}|<[^>]+>|\*+|x+)$")
# key=value in a query string (`&`), a connection string (`;`), an option list (spaces, `,`) or a
# command line (`--key=value`). A lookahead, so a pair inside another pair's value is still read
# (`DATABASE_URL=postgres://db/shop?password=...`). A key starts only where no key character
# precedes it (`X-Amz-Signature` is one key), so each word is scanned once. A quoted value is read
# to its closing quote or for 256 characters, whichever comes first: a longer one is still a value.
_KEY_VALUE = re.compile(
    r"(?<![A-Za-z0-9_.-])(?=-{0,2}(?P<key>[A-Za-z][A-Za-z0-9_.-]*)[ \t]*=[ \t]*"
    r"(?P<value>'[^']{0,256}'?|\"[^\"]{0,256}\"?|\{\{[^}]{0,256}\}\}|<[^>]{0,256}>|[^&;,\s'\"]{1,256}))"
)
#: Keys that say a secret only in a key=value pair: `PWD` alone is the shell's working directory.
_KEY_VALUE_SECRET_KEYS = frozenset({"PWD", "PASS", "SIG", "SIGNATURE", "ACCOUNTKEY"})
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("a PEM private key", re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----")),
    ("an AWS access key id", re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Z0-9])")),
    ("a JSON Web Token", re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")),
    ("a bearer token", re.compile(r"\b[Bb]earer\s+[A-Za-z0-9._~+/-]{16,}=*")),
    ("a GitHub token", re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}")),
    ("a Slack token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
    ("a Stripe live key", re.compile(r"\b(?:sk|rk)_live_[A-Za-z0-9]{16,}")),
    ("an npm token", re.compile(r"\bnpm_[A-Za-z0-9]{36}\b")),
)
# An AWS secret access key: 40 characters of base64 with both cases and a digit (a commit id is hex).
_AWS_SECRET = re.compile(r"(?<![A-Za-z0-9+/=])[A-Za-z0-9+/]{40}(?![A-Za-z0-9+/=])")
# Benign shapes removed before the entropy test, so their random-looking parts are not judged.
# ELB security policy names (words, version numbers and a date joined by hyphens) read as random to
# the entropy test; they are taken out by AWS's own spelling, so a random key cannot pass as one.
# Other AWS names (managed rule groups, metric names, endpoints, resource ids) pass the entropy test
# as they are: tests/policy/test_secret_values.py holds a corpus of them.
_BENIGN = (
    re.compile(r"\bsha(?:256|384|512):[0-9a-fA-F]{32,}"),                                       # image digests
    re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"),  # UUIDs
    re.compile(r"\barn:aws[a-z-]*:[^\s\"',]*"),                                                # ARNs
    # ELBSecurityPolicy-2016-08, -TLS13-1-2-Res-2021-06, -FS-1-2-Res-2020-10, -TLS13-1-2-Ext2-2021-06, ...
    re.compile(r"\bELBSecurityPolicy(?:-[A-Za-z0-9]{1,6})*-20\d\d-\d\d\b"),
)
_TOKEN_SPLIT = re.compile(r"[^A-Za-z0-9+/=_-]+")
_KEY_VALUE_EQUALS = re.compile(r"=+(?!=*$)")  # an `=` that is not trailing base64 padding
MIN_ENTROPY_LENGTH = 24
MIN_ENTROPY_BITS = 4.0
MAX_WORDY_SHARE = 0.5
_WORD_RUN = re.compile(r"[a-z]{4,}|[A-Z]{4,}")


def entropy(text: str) -> float:
    """Shannon entropy in bits per character."""
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values()) if text else 0.0


def _random_looking(token: str) -> bool:
    token = token.strip("=")
    if len(token) < MIN_ENTROPY_LENGTH or re.fullmatch(r"[0-9a-fA-F-]+", token):
        return False
    classes = sum(bool(re.search(p, token)) for p in (r"[a-z]", r"[A-Z]", r"[0-9]"))
    # Identifiers made of words (AbstractProxyFactoryBean2024) have long same-case runs; random text rarely.
    wordy = sum(len(m) for m in _WORD_RUN.findall(token)) / len(token)
    return classes == 3 and wordy < MAX_WORDY_SHARE and entropy(token) >= MIN_ENTROPY_BITS


def _path_like(token: str) -> bool:
    """More slashes than base64 text usually has: a URL path, judged per segment."""
    return token.count("/") > 3 or token.startswith("/")


def _secret_key(key: str) -> bool:
    """Does the key of a key=value pair say its value is a secret (password, Pwd, db_password, api_key,
    X-Amz-Signature, AccountKey)? Its last word must: a setting about a secret (password_min_length,
    token-expiry, jwt.token.validity) holds none."""
    words = _name_words(key)
    if not words:
        return False
    return (words[-1] in _SECRET_WORDS or tuple(words[-2:]) in _SECRET_PAIRS
            or words[-1] in _KEY_VALUE_SECRET_KEYS or "".join(words) in _KEY_VALUE_SECRET_KEYS)


def _key_value_secret(value: str) -> str | None:
    """The key of the first key=value pair that holds a secret (its value set, not a placeholder)."""
    for match in _KEY_VALUE.finditer(value):
        held = match.group("value").strip("'\"")
        if held and not _PLACEHOLDER.match(held) and _secret_key(match.group("key")):
            return match.group("key")
    return None


def secret_kind(value: Any) -> str | None:
    """What the value looks like if it holds a credential ('a password in a URL', ...), else None."""
    if not isinstance(value, str) or not value:
        return None
    for match in _URL_USERINFO.finditer(value):
        if not _PLACEHOLDER.match(match.group("password")):
            return "a password in a URL (scheme://user:password@host)"
    if (key := _key_value_secret(value)) is not None:
        return f"a secret in a key=value pair ({key}=...)"
    for kind, pattern in _PATTERNS:
        if pattern.search(value):
            return kind
    rest = value
    for benign in _BENIGN:
        rest = benign.sub(" ", rest)
    for candidate in _AWS_SECRET.findall(rest):
        if not _path_like(candidate) and _random_looking(candidate):
            return "an AWS secret access key"
    for token in _TOKEN_SPLIT.split(rest):
        for part in _judged_parts(token):
            if _random_looking(part):
                return "a long random-looking string (a key or token)"
    return None


def _judged_parts(token: str) -> list[str]:
    """The pieces of a token the entropy test judges on their own: the key and the value of
    `key=value` (base64 has `=` only as padding at the end), and a path segment by segment, so a
    long path of words (or `Root=1-67891233-abc...`, an X-Ray trace header) is not one random string."""
    pieces = _KEY_VALUE_EQUALS.split(token)
    return [part for piece in pieces for part in (piece.split("/") if _path_like(piece) else [piece])]


def secret_message(where: str, kind: str) -> str:
    """The one sentence every checkpoint gives: what, where, and to use `secrets` instead."""
    return (f"{where} holds what looks like {kind}; plain environment values are stored in clear in the task "
            "definition, the state and plan files: put it in `secrets` (a Secrets Manager secret or SSM "
            "parameter ARN) instead")


def redact(value: Any) -> Any:
    """A copy with every secret-looking string replaced by REDACTED; JSON held in strings (such as
    containerDefinitions) is redacted inside and stays a JSON string."""
    if isinstance(value, dict):
        return {k: redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    if isinstance(value, str):
        if value[:1] in ("[", "{"):
            try:
                parsed = json.loads(value)
            except ValueError:
                parsed = None
            if isinstance(parsed, (dict, list)):
                cleaned = redact(parsed)
                return value if cleaned == parsed else json.dumps(cleaned)
        if secret_kind(value) is not None:
            return REDACTED
    return value


_SECRET_WORDS = frozenset({
    "PASSWORD", "PASSWD", "PWORD", "PASSPHRASE", "SECRET", "SECRETS", "TOKEN", "TOKENS",
    "APIKEY", "CREDENTIAL", "CREDENTIALS", "PRIVATEKEY", "ACCESSKEY", "SECRETKEY", "AUTHORIZATION",
})
_SECRET_PAIRS = frozenset({
    ("API", "KEY"), ("PRIVATE", "KEY"), ("ACCESS", "KEY"), ("SECRET", "KEY"),
    ("AUTH", "KEY"), ("SIGNING", "KEY"), ("ENCRYPTION", "KEY"), ("CLIENT", "SECRET"),
    ("SESSION", "KEY"), ("MASTER", "KEY"), ("DB", "PASS"), ("AUTH", "TOKEN"),
})
#: A last word that says the variable points at a secret instead of holding it.
_POINTER_SUFFIXES = frozenset({"FILE", "PATH", "DIR", "URL", "ARN", "ARNS", "REF", "NAME"})


def _name_words(name: str) -> list[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    return [w for w in re.split(r"[^A-Za-z0-9]+", spaced.upper()) if w]


def secret_name(name: str) -> bool:
    """Does the variable's name say it holds a secret (DB_PASSWORD, apiKey, CLIENT_SECRET)? Names whose
    last word points at one (TOKEN_FILE, DB_SECRET_ARN, PASSWORD_PATH) do not."""
    words = _name_words(name)
    if not words or words[-1] in _POINTER_SUFFIXES:
        return False
    if any(w in _SECRET_WORDS for w in words):
        return True
    return any(pair in _SECRET_PAIRS for pair in zip(words, words[1:]))

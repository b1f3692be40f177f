"""A small evaluator for CloudWatch Logs' JSON filter pattern syntax, as far as AWS documents it, so
tests can run rampart/components/observability.py's real patterns on real nginx log lines.

What it accepts is what AWS's "Filter pattern syntax for metric filters" (JSON log events) shows,
and nothing it was merely written to accept:
  - a pattern is `{ EXPRESSION }`; an expression joins conditions with `&&` or `||`, and parentheses
    group them. Mixing `&&` and `||` without parentheses is refused: the page gives no precedence;
  - `$.field OP NUMBER` with `=`, `!=`, `<`, `<=`, `>`, `>=` matches only a JSON number;
  - `$.field = "TEXT"` / `$.field != "TEXT"` matches only a JSON string; a trailing `*` matches any
    suffix ("5*" matches "502" and "502, 200"). The text is not empty: the page documents no empty
    string literal (`!= ""` was the one this evaluator used to accept), so it is refused;
  - `$.field IS NULL` (a JSON null), `$.field NOT EXISTS` (no such field), `$.field IS TRUE` / `IS FALSE`;
  - a selector naming a field the event lacks never matches a comparison (a renamed field silently
    stops counting, which is what the tests exist to catch).
A metric value `$.field` must be a number in every event the pattern matches.
Anything else (arrays, nested selectors, regular expressions, other operators) is refused, not guessed.
"""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass
from typing import Any, Callable, Union

_NUMERIC: dict[str, Callable[[float, float], bool]] = {
    "=": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}
_FIELD = r"\$\.(?P<field>[A-Za-z_][A-Za-z0-9_]*)"
_COMPARISON = re.compile(
    rf'^{_FIELD}\s*(?P<op>!=|<=|>=|=|<|>)\s*(?:"(?P<string>[^"]*)"|(?P<number>-?\d+(?:\.\d+)?))$'
)
_KEYWORD = re.compile(rf"^{_FIELD}\s+(?P<keyword>IS NULL|NOT EXISTS|IS TRUE|IS FALSE)$")


class UnsupportedPattern(ValueError):
    pass


@dataclass(frozen=True)
class Condition:
    field: str
    op: str
    string: str | None = None
    number: float | None = None

    def holds(self, event: dict[str, Any]) -> bool:
        present = self.field in event
        value = event.get(self.field)
        if self.op == "NOT EXISTS":
            return not present
        if not present:
            return False
        if self.op == "IS NULL":
            return value is None
        if self.op in ("IS TRUE", "IS FALSE"):
            return value is (self.op == "IS TRUE")
        if self.string is not None:
            if not isinstance(value, str):
                return False
            wanted = self.string
            equal = value.startswith(wanted[:-1]) if wanted.endswith("*") else value == wanted
            return equal if self.op == "=" else not equal
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        assert self.number is not None
        return _NUMERIC[self.op](value, self.number)


@dataclass(frozen=True)
class Join:
    op: str  # "&&" or "||"
    parts: tuple["Node", ...]

    def holds(self, event: dict[str, Any]) -> bool:
        results = (part.holds(event) for part in self.parts)
        return all(results) if self.op == "&&" else any(results)


Node = Union[Condition, Join]


def _condition(text: str, pattern: str) -> Condition:
    keyword = _KEYWORD.match(text)
    if keyword is not None:
        return Condition(keyword["field"], keyword["keyword"])
    m = _COMPARISON.match(text)
    if m is None:
        raise UnsupportedPattern(f"condition outside the documented syntax: {text!r} in {pattern!r}")
    if m["string"] is not None:
        if m["op"] not in ("=", "!="):
            raise UnsupportedPattern(f"string values take = or != only: {text!r}")
        if m["string"] == "":
            raise UnsupportedPattern(f"an empty string literal is not in the documented syntax: {text!r} in {pattern!r}")
        if "*" in m["string"][:-1]:
            raise UnsupportedPattern(f"a wildcard only at the end of the text: {text!r}")
        return Condition(m["field"], m["op"], string=m["string"])
    return Condition(m["field"], m["op"], number=float(m["number"]))


def _tokens(body: str, pattern: str) -> list[str]:
    """`(`, `)`, `&&`, `||` and the conditions between them (quoted text kept whole)."""
    tokens: list[str] = []
    current = ""
    i = 0
    while i < len(body):
        two, char = body[i : i + 2], body[i]
        if char == '"':
            close = body.find('"', i + 1)
            if close < 0:
                raise UnsupportedPattern(f"unterminated string in {pattern!r}")
            current, i = current + body[i : close + 1], close + 1
            continue
        if two in ("&&", "||") or char in "()":
            if current.strip():
                tokens.append(current.strip())
            current = ""
            tokens.append(two if two in ("&&", "||") else char)
            i += len(two) if two in ("&&", "||") else 1
            continue
        current, i = current + char, i + 1
    if current.strip():
        tokens.append(current.strip())
    return tokens


def _parse(tokens: list[str], start: int, pattern: str) -> tuple[Node, int]:
    """An expression from `tokens[start]` up to a closing parenthesis or the end: (node, next index)."""
    parts: list[Node] = []
    joins: set[str] = set()
    i = start
    while True:
        if i >= len(tokens):
            raise UnsupportedPattern(f"an operand is missing in {pattern!r}")
        if tokens[i] == "(":
            node, i = _parse(tokens, i + 1, pattern)
            if i >= len(tokens) or tokens[i] != ")":
                raise UnsupportedPattern(f"unbalanced parentheses in {pattern!r}")
            i += 1
        elif tokens[i] in (")", "&&", "||"):
            raise UnsupportedPattern(f"an operand is missing before {tokens[i]!r} in {pattern!r}")
        else:
            node, i = _condition(tokens[i], pattern), i + 1
        parts.append(node)
        if i >= len(tokens) or tokens[i] == ")":
            break
        joins.add(tokens[i])
        i += 1
    if len(joins) > 1:
        raise UnsupportedPattern(f"`&&` and `||` mixed without parentheses (no documented precedence) in {pattern!r}")
    return (parts[0] if len(parts) == 1 else Join(joins.pop(), tuple(parts))), i


def parse(pattern: str) -> Node:
    text = pattern.strip()
    if not (text.startswith("{") and text.endswith("}")):
        raise UnsupportedPattern(f"not a JSON filter pattern (no braces): {pattern!r}")
    tokens = _tokens(text[1:-1], pattern)
    node, end = _parse(tokens, 0, pattern)
    if end != len(tokens):
        raise UnsupportedPattern(f"unbalanced parentheses in {pattern!r}")
    return node


def matches(pattern: str, event: dict[str, Any]) -> bool:
    return parse(pattern).holds(event)


def metric_value(value: str, event: dict[str, Any]) -> float:
    """The value a matched event records: a literal number, or a `$.field` that must hold a number."""
    if not value.startswith("$."):
        return float(value)
    field = value[2:]
    got = event.get(field)
    if isinstance(got, bool) or not isinstance(got, (int, float)):
        raise TypeError(f"metric value {value} is {got!r} in {event}, not a number")
    return float(got)

"""A small evaluator for the subset of CloudWatch Logs' JSON filter pattern syntax that
rampart/components/observability.py uses, so tests can run the real patterns on real nginx log lines.

The subset, from AWS's "Filter pattern syntax for metric filters" (JSON log events):
  - a pattern is `{ CONDITION && CONDITION ... }`; a condition is `$.field OP VALUE`;
  - numeric conditions use `=`, `!=`, `<`, `<=`, `>`, `>=` with a number and match only a JSON number;
  - string conditions use `=` or `!=` with a double-quoted string and match only a JSON string; a
    trailing `*` in the string matches any suffix ("5*" matches "502" and "502, 200");
  - a selector naming a field the event lacks never matches (a renamed field silently stops counting,
    which is what the tests exist to catch).
A metric value `$.field` must be a number in every event the pattern matches.
Anything outside the subset (`||`, parentheses, arrays, IS NULL, EXISTS) is refused, not guessed.
"""

from __future__ import annotations

import operator
import re
from typing import Any, Callable

_NUMERIC: dict[str, Callable[[float, float], bool]] = {
    "=": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}
_CONDITION = re.compile(
    r'^\$\.(?P<field>[A-Za-z_][A-Za-z0-9_]*)\s*(?P<op>!=|<=|>=|=|<|>)\s*'
    r'(?:"(?P<string>[^"]*)"|(?P<number>-?\d+(?:\.\d+)?))$'
)


class UnsupportedPattern(ValueError):
    pass


def _conditions(pattern: str) -> list[re.Match[str]]:
    text = pattern.strip()
    if not (text.startswith("{") and text.endswith("}")):
        raise UnsupportedPattern(f"not a JSON filter pattern (no braces): {pattern!r}")
    parts = [p.strip() for p in text[1:-1].split("&&")]
    found = []
    for part in parts:
        m = _CONDITION.match(part)
        if m is None:
            raise UnsupportedPattern(f"condition outside the supported subset: {part!r} in {pattern!r}")
        if m["string"] is not None and m["op"] not in ("=", "!="):
            raise UnsupportedPattern(f"string values take = or != only: {part!r}")
        found.append(m)
    return found


def _condition_holds(cond: re.Match[str], event: dict[str, Any]) -> bool:
    if cond["field"] not in event:
        return False
    value = event[cond["field"]]
    if cond["string"] is not None:
        if not isinstance(value, str):
            return False
        wanted = cond["string"]
        equal = value.startswith(wanted[:-1]) if wanted.endswith("*") else value == wanted
        return equal if cond["op"] == "=" else not equal
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return _NUMERIC[cond["op"]](value, float(cond["number"]))


def matches(pattern: str, event: dict[str, Any]) -> bool:
    return all(_condition_holds(c, event) for c in _conditions(pattern))


def metric_value(value: str, event: dict[str, Any]) -> float:
    """The value a matched event records: a literal number, or a `$.field` that must hold a number."""
    if not value.startswith("$."):
        return float(value)
    field = value[2:]
    got = event.get(field)
    if isinstance(got, bool) or not isinstance(got, (int, float)):
        raise TypeError(f"metric value {value} is {got!r} in {event}, not a number")
    return float(got)

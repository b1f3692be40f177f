"""Property values as the Pulumi engine sends them, made safe to read in checks.

The engine sends provider property names (camelCase), nested lists and maps, secrets wrapped in a
signature map, and during preview *unknown* values encoded as sentinel strings. `normalize` turns
all of that into plain Python with a single `UNKNOWN` marker; `view` wraps the result so that any
read of an unknown value raises `UnknownValue(path)`, which the runner turns into the outcome
"unknown" (never a violation).
"""
from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

# Sentinels the engine uses for values not known during preview (pulumi/sdk/go/common/resource/plugin).
UNKNOWN_SENTINELS = frozenset(
    {
        "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",  # boolean
        "3eeb2bf0-c639-47a8-9e75-3b44932eb421",  # number
        "04da6b54-80e4-46f7-96ec-b56ff0331ba9",  # string
        "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",  # array
        "030794c1-ac77-496b-92df-f27374a8bd58",  # asset
        "e48ece36-62e2-4504-bad9-02848725956a",  # archive
        "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",  # object
    }
)
UNKNOWN_STRING_SENTINEL = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
SPECIAL_SIG_KEY = "4dabf18193072939515e22adb298388d"
SPECIAL_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"


class _Unknown:
    """The single marker for a value the engine does not know yet."""

    _instance: "_Unknown | None" = None

    def __new__(cls) -> "_Unknown":
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN = _Unknown()


class UnknownValue(Exception):
    """Raised when a check reads a value that is unknown during preview."""

    def __init__(self, path: str) -> None:
        super().__init__(f"{path or '<root>'} is not known until the resource is created")
        self.path = path


def _unwrap_policy_proxy(value: Any) -> Any:
    # pulumi_policy wraps props in proxies that raise on unknowns; read the raw target instead.
    name = type(value).__name__
    if name in ("_DictProxy", "_ListProxy", "_DictSecretsProxy", "_ListSecretsProxy"):
        return value["__target"]
    if name == "Secret" and hasattr(value, "value"):
        return value.value
    return value


def normalize(value: Any) -> Any:
    """Plain Python from engine values: secrets unwrapped, unknown sentinels -> UNKNOWN."""
    value = _unwrap_policy_proxy(value)
    if isinstance(value, str):
        return UNKNOWN if value in UNKNOWN_SENTINELS else value
    if isinstance(value, Mapping):
        if value.get(SPECIAL_SIG_KEY) == SPECIAL_SECRET_SIG:
            return normalize(value.get("value"))
        return {str(k): normalize(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [normalize(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        # protobuf Struct carries every number as a double
        return int(value)
    return value


def _child(value: Any, path: str) -> Any:
    if value is UNKNOWN:
        raise UnknownValue(path)
    if isinstance(value, dict):
        return View(value, path)
    if isinstance(value, list):
        return ListView(value, path)
    return value


class View(Mapping[str, Any]):
    """A read-only map whose reads raise `UnknownValue` for unknown values."""

    def __init__(self, data: dict[str, Any], path: str = "") -> None:
        self._data = data
        self.path = path

    def _p(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def __getitem__(self, key: str) -> Any:
        return _child(self._data[key], self._p(key))

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def raw(self) -> dict[str, Any]:
        """The underlying data (may contain UNKNOWN)."""
        return self._data

    def has_unknown(self, key: str) -> bool:
        return self._data.get(key) is UNKNOWN


class ListView(Sequence[Any]):
    """A read-only list whose reads raise `UnknownValue` for unknown elements."""

    def __init__(self, data: list[Any], path: str = "") -> None:
        self._data = data
        self.path = path

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self._data)))]
        return _child(self._data[index], f"{self.path}[{index}]")

    def __len__(self) -> int:
        return len(self._data)

    def raw(self) -> list[Any]:
        return self._data


def view(props: Any, path: str = "") -> View:
    """Normalize engine properties and wrap them in a `View`."""
    data = normalize(props)
    if not isinstance(data, dict):
        raise TypeError("resource properties must be a map")
    return View(data, path)


def as_list(value: Any) -> list[Any]:
    """A list from a value that may be absent (None), a single item or a list."""
    if value is None:
        return []
    if isinstance(value, (ListView, list, tuple)):
        return list(value)
    return [value]


def json_document(value: Any, path: str) -> Any:
    """A JSON value that the provider takes as a string (containerDefinitions, policies)."""
    if value is UNKNOWN:
        raise UnknownValue(path)
    if isinstance(value, str):
        if value in UNKNOWN_SENTINELS:
            raise UnknownValue(path)
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError as exc:
            raise InvalidDocument(f"{path} is not valid JSON ({exc.msg})") from exc
        return _child(normalize(parsed), path)
    if isinstance(value, (View, ListView)):
        return value
    return _child(normalize(value), path)


class InvalidDocument(Exception):
    """A JSON document property that cannot be parsed: reported as a violation."""


def contains_unknown(value: Any) -> bool:
    if value is UNKNOWN:
        return True
    if isinstance(value, (View, ListView)):
        return contains_unknown(value.raw())
    if isinstance(value, dict):
        return any(contains_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(contains_unknown(v) for v in value)
    return False

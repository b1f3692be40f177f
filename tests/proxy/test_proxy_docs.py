"""docs/proxy.md documents every ProxyConfig setting (the defaults table stays in step with the model)."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel

from rampart.components.proxy_config import ProxyConfig

DOC = Path(__file__).resolve().parents[2] / "docs" / "proxy.md"


def leaf_keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    keys: list[str] = []
    for name, field in model.model_fields.items():
        alias = field.alias or name
        ann = field.annotation
        sub = next((a for a in (getattr(ann, "__args__", ()) or (ann,)) if isinstance(a, type) and issubclass(a, BaseModel)), None)
        if sub is not None and "list" not in str(ann):
            keys.extend(leaf_keys(sub, f"{prefix}{alias}."))
        else:
            keys.append(prefix + alias)
    return keys


def test_every_setting_is_in_the_defaults_table() -> None:
    text = DOC.read_text()
    table = "\n".join(line for line in text.splitlines() if line.startswith("| `"))
    missing = []
    for key in leaf_keys(ProxyConfig):
        group, _, leaf = key.rpartition(".")
        # rows may list several leaves of one group: `timeouts.clientHeaderS` / `clientBodyS`
        if f"`{key}`" not in table and not (group and re.search(rf"`{re.escape(group)}\.[^|]*`{re.escape(leaf)}`", table)):
            missing.append(key)
    assert not missing, f"docs/proxy.md lacks rows for: {missing}"

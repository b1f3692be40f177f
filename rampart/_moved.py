"""Old names of two modules that moved into `rampart.offline`, for `rampart.local` only.

`rampart.local` still imports `rampart.mock_engine` and `rampart.plan`; until its imports follow the
move, those names stay importable, as the very same module objects, loaded only when asked for.
mypy reads them from the type stubs rampart/mock_engine.pyi and rampart/plan.pyi. Nothing else may
use them: delete this file, its import in rampart/__init__.py and the two stubs with that change.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
from types import ModuleType

#: old module name -> where it lives now.
MOVED = {
    "rampart.mock_engine": "rampart.offline.mock_engine",
    "rampart.plan": "rampart.offline.plan",
}


class _MovedModule(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Answers an import of an old name with the module at its new one."""

    def __init__(self) -> None:
        self._own_specs: dict[str, importlib.machinery.ModuleSpec | None] = {}

    def find_spec(self, fullname: str, path: object = None, target: object = None) -> importlib.machinery.ModuleSpec | None:
        return importlib.machinery.ModuleSpec(fullname, self) if fullname in MOVED else None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        module = importlib.import_module(MOVED[spec.name])
        self._own_specs[module.__name__] = module.__spec__
        return module

    def exec_module(self, module: ModuleType) -> None:
        # The import system gave the module the old name's spec: give it back its own.
        module.__spec__ = self._own_specs[module.__name__]


if not any(isinstance(finder, _MovedModule) for finder in sys.meta_path):
    sys.meta_path.append(_MovedModule())

"""Signal strategies: one module each, found on disk (see :mod:`.registry`)."""

import importlib
import pkgutil

_FRAMEWORK = {"types", "registry", "indicators"}

SIGNAL_MODULES = tuple(
    sorted(
        info.name
        for info in pkgutil.iter_modules(__path__)
        if not info.ispkg and info.name not in _FRAMEWORK
    )
)

for _module in SIGNAL_MODULES:
    importlib.import_module(f"{__name__}.{_module}")

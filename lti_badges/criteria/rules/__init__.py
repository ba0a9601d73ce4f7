"""The rule types, one module each; importing this package registers them all.

Modules are discovered, not listed, so adding a rule type is adding one file
here (a class decorated with :func:`lti_badges.criteria.base.register`).
"""

from __future__ import annotations

import importlib
import pkgutil


def load_all() -> None:
    """Import every module of this package (idempotent)."""
    for module in pkgutil.iter_modules(__path__):
        if not module.name.startswith("_"):
            importlib.import_module(f"{__name__}.{module.name}")


load_all()

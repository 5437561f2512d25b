"""The gateway (BG): takes a signed ``search`` from a buyer node, ACKs it at once, finds the
seller nodes of its domain and region through the registry, and multicasts the same bytes to
them with the buyer's signature and its own. It keeps no catalog and relays no ``on_search``.

    from reseau_poles.gateway import GatewaySettings, create_app
    app = create_app(GatewaySettings(registry_url="http://registre:8000"))
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import create_app
    from .settings import GatewaySettings, load_settings

__all__ = ["GatewaySettings", "create_app", "load_settings"]

# Loaded on first use, so that ``reseau-poles gateway --help`` does not import the web stack.
_LAZY = {"create_app": ".app", "GatewaySettings": ".settings", "load_settings": ".settings"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module, __name__), name)

"""The participant frame: what the seller node, the buyer node and the gateway share around
the network layer, written once.

Every participant: its settings (:class:`~.settings.ParticipantSettings`), ``/health``,
``/on_subscribe`` and the key-expiry watch (:mod:`.routes`), the ``serve`` and ``rotate-key``
commands (:mod:`.cli`), the Prometheus renderer (:mod:`.metrics`). The nodes besides: the
FastAPI application frame (protocol dispatch, :mod:`.app`), the client API's error format,
API keys (:mod:`.api_keys`), webhooks and their routes (:mod:`.webhooks`,
:mod:`.webhook_routes`), and the ``migrate``, ``purge`` and ``subscribe`` commands.

A role supplies only what is its own: its settings' defaults, its migrations, its protocol
handlers and its ``/api`` routes.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .api import (
        ApiError,
        api_key_from_headers,
        read_json_object,
        validated,
        validation_error,
    )
    from .api_keys import hash_api_key, new_api_key
    from .app import Migrations, NodeParts, create_node_app, open_node
    from .settings import NodeSettings

# Loaded on first use, so that a role's ``--help`` does not import the web stack.
_LAZY = {
    "ApiError": ".api",
    "api_key_from_headers": ".api",
    "read_json_object": ".api",
    "validated": ".api",
    "validation_error": ".api",
    "hash_api_key": ".api_keys",
    "new_api_key": ".api_keys",
    "Migrations": ".app",
    "NodeParts": ".app",
    "create_node_app": ".app",
    "open_node": ".app",
    "NodeSettings": ".settings",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module, __name__), name)


__all__ = [
    "ApiError",
    "Migrations",
    "NodeParts",
    "NodeSettings",
    "api_key_from_headers",
    "create_node_app",
    "hash_api_key",
    "new_api_key",
    "open_node",
    "read_json_object",
    "validated",
    "validation_error",
]

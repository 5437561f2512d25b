"""What the seller and buyer nodes share around the network layer: their common settings,
the FastAPI application frame (health, registry challenge, protocol dispatch), the client
API's error format and API keys, and the ``serve`` / ``migrate`` CLI commands.

A role supplies only what is its own: its settings' defaults, its migrations, its protocol
handlers and its ``/api`` routes.
"""

from .api import ApiError, api_key_from_headers, read_json_object, validation_error
from .api_keys import hash_api_key, new_api_key
from .app import Migrations, NodeParts, create_node_app, open_node
from .settings import NodeSettings

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
    "validation_error",
]

"""The gateway (BG): takes a signed ``search`` from a buyer node, ACKs it at once, finds the
seller nodes of its domain and region through the registry, and multicasts the same bytes to
them with the buyer's signature and its own. It keeps no catalog and relays no ``on_search``.

    from reseau_poles.gateway import GatewaySettings, create_app
    app = create_app(GatewaySettings(registry_url="http://registre:8000"))
"""

from .app import create_app
from .settings import GatewaySettings, load_settings

__all__ = ["GatewaySettings", "create_app", "load_settings"]

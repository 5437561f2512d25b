"""``POST /search``, the gateway's hot path: no FastAPI route but the network layer's pipeline
with the gateway's steps (:meth:`..service.GatewayService.build_pipeline`), mounted as raw
ASGI in front of the routing (:func:`reseau_poles.network.pipeline.mount`). Its OpenAPI text,
:data:`SEARCH_DOCS`, is declared here with the other routes and given to ``mount`` with the
pipeline, so the code that is documented is the code that serves."""

from __future__ import annotations

from reseau_poles.network.pipeline import ProtocolDocs, beckn_example

SEARCH_DOCS = ProtocolDocs(
    path="/search",
    summary="Recherche d'un nœud acheteur (Beckn 1.1 search)",
    description=(
        "Corps : message Beckn `search` ; en-tête `Authorization` signé par "
        "`context.bap_id` (BECKN-006). Réponse : ACK immédiat, ou NACK avec code 10000 "
        "(requête), 10001 (signature), 10002 (région), 10003 (limite de débit)."
    ),
    operation_id="search_search_post",
    examples=lambda: {
        "search": beckn_example("search", "search : recherche diffusée aux nœuds vendeurs")
    },
    answers={
        "400": "NACK : requête invalide",
        "401": "NACK : signature invalide ou rejeu",
        "413": "NACK : corps trop volumineux",
        "429": "NACK : limite de débit (10003)",
    },
)

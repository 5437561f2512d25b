"""With the real registry: a node finds keys through it, pins its key from the well-known
document, and refuses a suspended buyer once its cache entry ends (here 1 s; 60 s live)."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from reseau_poles.network import Inbound, MemoryReplayGuard, RegistryLookup
from reseau_poles.network.registry_client import signer_for
from reseau_poles.registry.settings import OperatorKey, RegistrySettings
from tests.conftest import free_port
from tests.registry.conftest import ParticipantHost, RunningRegistry, new_keys

from .support import protocol_app, search_body, serve


def test_a_node_verifies_through_the_real_registry(database_url: str, tmp_path: Path) -> None:
    host = ParticipantHost()
    host.server.start()
    operator = new_keys("operateur")
    settings = RegistrySettings(
        database_url=database_url,
        key_dir=tmp_path / "registry-keys",
        subscriber_id="registre.test.example",
        operators=[
            OperatorKey(
                operator_id=operator.subscriber_id,
                key_id=operator.key_id,
                signing_public_key=operator.signing.public_key_b64,
            )
        ],
        snapshot_refresh_seconds=0.2,
        port=free_port(),
    )
    registry = RunningRegistry(settings, host, operator).start()
    try:
        buyer = registry.join(new_keys("acheteur"), type="BAP")
        lookup = RegistryLookup(registry.url, registry_subscriber_id="registre.test.example", ttl=1)
        inbound = Inbound("vendeur.example", "BPP", lookup, replay_guard=MemoryReplayGuard())
        app = protocol_app(inbound)

        with serve(app) as url:

            def search() -> httpx.Response:
                body = search_body(buyer.keys.subscriber_id, bap_uri=buyer.url)
                return httpx.post(
                    f"{url}/search",
                    content=body,
                    headers={"Authorization": signer_for(buyer.keys).sign(body)},
                )

            assert search().status_code == 200
            registry.admin.change("suspend", buyer.keys.subscriber_id, "essai")
            deadline = time.monotonic() + 5
            while (response := search()).status_code == 200:
                assert time.monotonic() < deadline, "la suspension n'a pas été vue"
                time.sleep(0.1)
            assert response.status_code == 401
            assert response.json()["error"]["code"] == "30016"
    finally:
        registry.stop()
        host.server.stop()

"""``reseau-poles demo --once``: the scripted scenario, run against the demo network through
the same APIs a buyer's application and a pôle's software use.

1. A search across every region (``region: *``): the gateway multicasts it, every seller node
   answers with its pôles (``on_search``); then a search for one region reaches only the nodes
   registered for it, and only the pôles serving it answer.
2. A school service centre's weekly order, split across three pôles, on three seller nodes when
   the network has that many (with one or two nodes, pôles of a node share it): one order per pôle through the buyer node (``select`` → ``on_select``, ``init`` → ``on_init``,
   ``confirm`` → ``on_confirm``), paid after delivery, net 30, one purchase order number.
   Beforehand each pôle checks its stock through its management API and tops it up, so the
   scenario can run again and again on the same data.
3. The first pôle delivers it: Packed, Out-for-delivery, Order-delivered through its node's
   management API, each change an unsolicited ``on_status`` to the buyer; the order ends
   COMPLETE.
4. The buyer cancels the third order before it leaves (``cancel`` → ``on_cancel``): CANCELLED.

Each step checks the callback it expects at the buyer node; the run passes only if every step
did.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from rich.console import Console

from .network import DemoNetwork
from .participants import DemoError, Participant
from .sample import REGIONS, SamplePole

WAIT_MS = 15_000
COLD_DELIVERY = "livraison-refrigeree"
INSTITUTION_REGION = "QC-03"
ORDER_LINES = (("sirop-erable-540ml", 12), ("fromage-grains-1kg", 5), ("lait-2-4l", 10))
PURCHASE_ORDER = "BC-2026-0042"
DELIVERY_STATES = ("Packed", "Out-for-delivery", "Order-delivered")


ORDER_POLE_COUNT = 3  # the order is split across three pôles


def delivers_cold(pole: SamplePole, region: str) -> bool:
    return any(
        option.id == COLD_DELIVERY and region in option.regions
        for option in pole.fulfillment_options
    )


def pick_poles(
    sellers: Sequence[Participant], region: str = INSTITUTION_REGION
) -> list[tuple[Participant, SamplePole]]:
    """Three pôles that deliver refrigerated goods to ``region``: the first such pôle of each
    seller node in turn, then the second of each, and so on. Three nodes or more give three
    nodes; one or two nodes (``--seller-nodes 1``) give pôles that share a node. Fewer than
    three only when fewer pôles in all deliver there."""
    eligible = [[(s, p) for p in s.poles if delivers_cold(p, region)] for s in sellers]
    in_turn = [
        options[rank]
        for rank in range(max(map(len, eligible), default=0))
        for options in eligible
        if rank < len(options)
    ]
    return in_turn[:ORDER_POLE_COUNT]


class StepFailed(Exception):
    """A step did not get what it expected; the message says what (French)."""


@dataclass
class Scenario:
    net: DemoNetwork
    console: Console
    http: httpx.Client
    orders: list[dict[str, Any]] = field(default_factory=list)
    chosen: list[tuple[Participant, SamplePole]] = field(default_factory=list)

    # --- helpers ------------------------------------------------------------------------------

    @property
    def buyer(self) -> str:
        return self.net.buyer.url

    @property
    def buyer_headers(self) -> dict[str, str]:
        return {"X-API-Key": self.net.buyer_api_key}

    def call(self, method: str, url: str, expected: tuple[int, ...], **kwargs: Any) -> Any:
        try:
            response = self.http.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise StepFailed(f"{method} {url} : {type(exc).__name__} {exc}") from None
        if response.status_code not in expected:
            raise StepFailed(
                f"{method} {url} → HTTP {response.status_code} : {response.text[:400]}"
            )
        return response.json() if response.content else None

    def buyer_call(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.call(
            method, f"{self.buyer}{path}", (200, 201, 202), headers=self.buyer_headers, **kwargs
        )

    def say(self, text: str) -> None:
        self.console.print(text, highlight=False, soft_wrap=True)

    # --- 1. search ----------------------------------------------------------------------------

    def search_everywhere(self) -> None:
        started = self.buyer_call(
            "POST", "/api/searches", json={"text": "sirop érable", "region": "*"}
        )
        tx = started["transaction_id"]
        result = self.buyer_call("GET", f"/api/searches/{tx}", params={"wait_ms": WAIT_MS})
        answered = {a["bpp_id"] for a in result["sellers"]["answered"]}
        expected = {s.subscriber_id for s in self.net.sellers}
        if answered != expected:
            missing = ", ".join(sorted(expected - answered)) or "aucun"
            raise StepFailed(f"on_search manquant de : {missing} (état {result['state']})")
        providers = {p.get("id") or p.get("provider_id") for p in result["providers"]}
        poles = {p.id for s in self.net.sellers for p in s.poles}
        if not poles <= providers:
            raise StepFailed(f"pôles absents des résultats : {sorted(poles - providers)[:5]}")
        regions = sorted({p.region for s in self.net.sellers for p in s.poles})
        self.say(
            f"    {len(answered)} nœud(s) vendeur(s) ont répondu (on_search) : {len(providers)} pôles "
            f"de {len(regions)} régions, {result['counts']['items']} articles"
            + (
                f" ({result['counts']['received']} reçus sur {result['counts']['matched']} "
                "trouvés : la suite par POST …/more)"
                if result["counts"]["truncated"]
                else ""
            )
        )

    def search_one_region(self, region: str = "QC-11") -> None:
        """A regional search reaches only the seller nodes registered for the region, and
        only the pôles that serve it answer."""
        started = self.buyer_call(
            "POST", "/api/searches", json={"text": "pommes", "region": region}
        )
        tx = started["transaction_id"]
        result = self.buyer_call("GET", f"/api/searches/{tx}", params={"wait_ms": WAIT_MS})
        nodes = {s.subscriber_id for s in self.net.sellers if region in s.regions}
        answered = {a["bpp_id"] for a in result["sellers"]["answered"]}
        if set(result["sellers"]["targeted"]) != nodes or answered != nodes:
            raise StepFailed(
                f"recherche {region} : visés {sorted(result['sellers']['targeted'])}, "
                f"réponses de {sorted(answered)}, attendus {sorted(nodes)}"
            )
        serving = {
            p.id for s in self.net.sellers for p in s.poles if region in p.provider.served_regions
        }
        found = {p.get("id") for p in result["providers"]}
        if not found or not found <= serving:
            raise StepFailed(f"recherche {region} : pôles {sorted(found)}, attendus {serving}")
        self.say(
            f"    {REGIONS[region].name} : {len(nodes)} nœud(s) visé(s) sur "
            f"{len(self.net.sellers)}, {len(found)} pôle(s) qui y livrent"
        )

    # --- 2. a multi-pôle institutional order --------------------------------------------------

    def choose_poles(self) -> None:
        """Three pôles that deliver refrigerated goods to the institution's region, on three
        different seller nodes when there are that many."""
        self.chosen = pick_poles(self.net.sellers)
        if len(self.chosen) < ORDER_POLE_COUNT:
            raise StepFailed(
                f"{len(self.chosen)} pôle(s) seulement livrent la Capitale-Nationale au froid, "
                f"{ORDER_POLE_COUNT} attendus"
            )
        nodes = len({seller.name for seller, _ in self.chosen})
        self.say(f"    {', '.join(p.id for _, p in self.chosen)} ({nodes} nœud(s) vendeur(s))")

    def restock(self) -> None:
        """Each chosen pôle counts its stock and tops it up (management API), so that the
        scenario can be run again and again on the same data."""
        for seller, pole in self.chosen:
            base = f"{seller.url}/api/providers/{pole.id}/products"
            headers = {"X-API-Key": self.net.pole_api_key(pole.id)}
            for sku, quantity in ORDER_LINES:
                stock = self.call("GET", f"{base}/{sku}/stock", (200,), headers=headers)["stock"]
                if stock < 10 * quantity:
                    self.call(
                        "PUT",
                        f"{base}/{sku}/stock",
                        (200,),
                        headers=headers,
                        json={"quantity": 20 * quantity},
                    )
                    self.say(f"    {pole.id} : réassort de {sku} ({stock} → {20 * quantity})")

    def order_body(self, seller: Participant, pole: SamplePole) -> dict[str, Any]:
        town = REGIONS[INSTITUTION_REGION].towns[0]
        return {
            "provider": {"bpp_id": seller.subscriber_id, "id": pole.id},
            "items": [{"id": sku, "quantity": quantity} for sku, quantity in ORDER_LINES],
            "fulfilment": {
                "type": "livraison",
                "id": COLD_DELIVERY,
                "address": f"1000, {town.street}, {town.name} (Québec) G1K 3A9",
                "gps": f"{town.gps[0]:.4f},{town.gps[1]:.4f}",
                "region": INSTITUTION_REGION,
                "contact": {"name": "Cuisine centrale", "phone": "418 555-0199"},
                "instructions": "Quai de réception, porte 3, avant 10 h.",
            },
            "billing": {
                "name": "Centre de services scolaire Démo (fictif)",
                "address": f"2000, {town.street}, {town.name} (Québec) G1K 3B1",
                "email": "comptes-fournisseurs@css-demo.example",
            },
            "payment": {"type": "POST-FULFILLMENT", "net_days": 30},
            "purchase_order_number": PURCHASE_ORDER,
        }

    def wait_answered(self, order_id: str, callback: str) -> dict[str, Any]:
        document = self.buyer_call("GET", f"/api/orders/{order_id}", params={"wait_ms": WAIT_MS})
        if document.get("pending") is not None:
            raise StepFailed(f"{order_id} : pas de {callback} après {WAIT_MS // 1000} s")
        if document.get("error"):
            raise StepFailed(f"{order_id} : {callback} en erreur : {document['error']}")
        if not any(e.get("action") == callback for e in document.get("events", [])):
            raise StepFailed(f"{order_id} : aucun {callback} dans l'historique de la commande")
        return document

    def quote_each(self) -> None:
        for seller, pole in self.chosen:
            started = self.buyer_call("POST", "/api/orders", json=self.order_body(seller, pole))
            order_id = started["id"]
            document = self.wait_answered(order_id, "on_select")
            self.orders.append(document)
            total = (document.get("quote") or {}).get("price", {}).get("value", "?")
            self.say(f"    {pole.provider.name} ({seller.name}) : devis {total} $ (on_select)")

    def init_and_confirm_each(self) -> None:
        for index, order in enumerate(self.orders):
            for action in ("init", "confirm"):
                self.buyer_call("POST", f"/api/orders/{order['id']}/{action}", json={})
                self.orders[index] = self.wait_answered(order["id"], f"on_{action}")
            confirmed = self.orders[index]
            if not confirmed.get("seller_order_id"):
                raise StepFailed(f"{order['id']} : confirmée sans numéro de commande du pôle")
            self.say(
                f"    {confirmed['provider']['id']} : commande {confirmed['seller_order_id']} "
                f"confirmée, {confirmed['total']['value']} $ (on_init, on_confirm)"
            )

    # --- 3. fulfilment to delivered -----------------------------------------------------------

    def deliver_first(self) -> None:
        seller, pole = self.chosen[0]
        order = self.orders[0]
        url = f"{seller.url}/api/providers/{pole.id}/orders/{order['seller_order_id']}/fulfillment"
        headers = {"X-API-Key": self.net.pole_api_key(pole.id)}
        for state in DELIVERY_STATES:
            self.call("POST", url, (200,), headers=headers, json={"state": state})
            self.wait_for_state(order["id"], state)
        final = self.buyer_call("GET", f"/api/orders/{order['id']}")
        if final["status"] != "COMPLETE":
            raise StepFailed(
                f"{order['id']} livrée mais statut {final['status']} (COMPLETE attendu)"
            )
        self.say(f"    {pole.id} : {' → '.join(DELIVERY_STATES)} (on_status ×3), COMPLETE")

    def wait_for_state(self, order_id: str, state: str, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            document = self.buyer_call("GET", f"/api/orders/{order_id}")
            if document["fulfillment"]["state"] == state:
                if not any(e.get("action") == "on_status" for e in document["events"]):
                    raise StepFailed(f"{order_id} : état {state} sans on_status")
                return
            if time.monotonic() > deadline:
                raise StepFailed(
                    f"{order_id} : l'acheteur voit « {document['fulfillment']['state']} », "
                    f"pas « {state} », après {timeout:.0f} s (on_status non reçu)"
                )
            time.sleep(0.2)

    # --- 4. a cancellation --------------------------------------------------------------------

    def cancel_last(self) -> None:
        order = self.orders[-1]
        self.buyer_call(
            "POST",
            f"/api/orders/{order['id']}/cancel",
            json={"reason_code": "001", "description": "Sortie scolaire : cuisine fermée."},
        )
        document = self.wait_answered(order["id"], "on_cancel")
        if document["status"] != "CANCELLED":
            raise StepFailed(f"{order['id']} : statut {document['status']} après on_cancel")
        self.say(f"    {order['provider']['id']} : commande annulée (on_cancel), CANCELLED")

    # --- the run ------------------------------------------------------------------------------

    def steps(self) -> list[tuple[str, Callable[[], None]]]:
        return [
            ("Recherche dans toutes les régions", self.search_everywhere),
            ("Recherche dans une seule région (routage du registre)", self.search_one_region),
            ("Trois pôles qui livrent la Capitale-Nationale au froid", self.choose_poles),
            ("Leur stock, vu par chaque pôle (API de gestion)", self.restock),
            ("Devis de chaque pôle (select)", self.quote_each),
            ("Initialisation et confirmation (init, confirm)", self.init_and_confirm_each),
            ("Livraison par le premier pôle", self.deliver_first),
            ("Annulation par l'acheteur", self.cancel_last),
        ]


def run_scenario(net: DemoNetwork, console: Console) -> bool:
    """True when every step passed; prints each step as it goes."""
    console.rule("Scénario : de la recherche à la livraison")
    with httpx.Client(timeout=WAIT_MS / 1000 + 10) as http:
        scenario = Scenario(net, console, http)
        for number, (title, step) in enumerate(scenario.steps(), start=1):
            started = time.monotonic()
            console.print(f"{number}. {title}…", highlight=False)
            try:
                net.check_children()
                step()
            except (StepFailed, DemoError) as exc:
                console.print(f"   [red]ÉCHEC[/] : {exc}", highlight=False, soft_wrap=True)
                return False
            console.print(f"   [green]ok[/] ({time.monotonic() - started:.1f} s)")
    console.print("[green]Scénario réussi[/] : chaque étape a reçu le rappel attendu.")
    return True

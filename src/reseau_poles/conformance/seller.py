"""Against a seller node (BPP): the tester plays a buyer node.

The scenario: the registry's entry for the node; the sealed challenge at its
``/on_subscribe``; a ``search`` and its ``on_search`` (catalog and Québec profile tags); a
``select`` of a taxable and a zero-rated item and its quote (TPS, TVQ, total); ``init``,
``confirm``, ``status`` and ``cancel`` with their callbacks; then three requests the node must
refuse: a replay of one already accepted, one whose signature has expired, one whose body
changed after signing. Every callback is checked as it comes: signature (with the key the
registry holds), arrival within the request's ttl, context, schema.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

from reseau_poles.protocol.errors import ErrorCode

from . import checks as c
from .checks import CatalogItem, QuotedLine, Received, RegistryView, Sent
from .peer import Tester, encode
from .report import Finding, Report
from .runner import Collector

BILLING = {
    "name": "Testeur de conformité Réseau Pôles",
    "address": "1, rue du Test, Québec (Québec) G1R 1A1",
    "email": "conformite@reseau-poles.example",
    "phone": "+1-418-555-0199",
}
# A delivery address when the pôle offers no pickup: a school in the Capitale-Nationale.
DELIVERY_STOP = {
    "type": "end",
    "location": {
        "gps": "46.7784,-71.2837",
        "address": "1100, boul. de la Cafétéria, Québec (Québec) G1V 4E2",
        "city": {"code": "QC-03"},
        "country": {"code": "CAN"},
    },
}
REFUSAL_CODES = (ErrorCode.INVALID_SIGNATURE.value, ErrorCode.STALE_REQUEST.value)


@dataclass
class SellerOptions:
    target: str  # the seller node's subscriber id
    city: str = "*"  # context.location.city.code of the requests
    search_text: str | None = None
    ttl: float = 30.0  # the ttl of each request: its callback must come within it
    grace: float = 10.0  # how much longer the tester waits, to tell « late » from « never »


class SellerRun:
    def __init__(self, tester: Tester, options: SellerOptions) -> None:
        self.tester = tester
        self.options = options
        self.out = Collector(c.SELLER_CHECKS)
        self.view = RegistryView()
        self.url = ""
        self.refused: list[Sent] = []

    @property
    def ttl_text(self) -> str:
        return f"PT{max(round(self.options.ttl), 1)}S"

    # --- one request and its callback ------------------------------------------------------

    def request(
        self, action: str, message: Any, transaction_id: str, *, label: str | None = None
    ) -> tuple[Sent, Received | None]:
        body = {
            "context": self.tester.context(
                action,
                transaction_id=transaction_id,
                bpp_id=self.options.target,
                bpp_uri=self.url,
                city=self.options.city,
                ttl=self.ttl_text,
            ),
            "message": message,
        }
        sent = self.tester.post(self.url, action, encode(body), label=label)
        ack = c.ack_findings(sent, "ACK")
        self.out.add(c.ACK_SHAPE, ack)
        if ack:
            return sent, None
        message_id = body["context"]["message_id"]
        wait = self.options.ttl + self.options.grace
        callback = self.tester.inbox.wait(
            lambda m: m.action == f"on_{action}" and m.message_id == message_id, wait
        )
        self.out.add(c.CALLBACK_TIMING, c.timing_findings(sent, callback, self.options.ttl))
        if callback is None:
            return sent, None
        self.judge_callback(sent, callback)
        return sent, callback

    def judge_callback(self, sent: Sent, callback: Received) -> None:
        keys, signature = c.signature_findings(
            callback, self.view.keys, self.options.target, now=callback.received_at
        )
        self.out.add(c.REGISTRY_KEY, keys)
        self.out.add(c.CALLBACK_SIGNATURE, signature)
        self.out.add(
            c.CALLBACK_CONTEXT,
            c.context_findings(
                sent,
                callback,
                bap_id=self.tester.subscriber_id,
                bap_uri=self.tester.public_url,
                bpp_id=self.options.target,
                bpp_uri=self.url,
            ),
        )
        self.out.add(c.SCHEMA, c.schema_findings(callback.action, callback.body))

    # --- the scenario ------------------------------------------------------------------------

    def run(self) -> Report:
        try:
            self._run()
        finally:
            self.out.skip_rest(
                "Non évaluée : une étape précédente a échoué (voir plus haut).",
                "Not evaluated: an earlier step failed (see above).",
            )
        return self.out.report(
            role="seller",
            target=self.options.target,
            tester=self.tester.subscriber_id,
            registry_url=self.tester.registry_url,
        )

    def _run(self) -> None:
        self.view = self.tester.lookup(self.options.target)
        entry = c.registry_entry_findings(self.view, self.options.target, "BPP")
        self.out.add(c.REGISTRY_ENTRY, entry)
        if not self.view.records or not self.view.url:
            return
        self.url = self.view.url.rstrip("/")
        self.tester.check_challenge(
            self.out, self.url, self.options.target, self.view.encr_public_key
        )

        transaction = str(uuid.uuid4())
        intent: dict[str, Any] = {
            "fulfillment": {"stops": [{"type": "end", "location": {"city": {"code": "*"}}}]}
        }
        if self.options.search_text:
            intent["item"] = {"descriptor": {"name": self.options.search_text}}
        _sent, on_search = self.request("search", {"intent": intent}, transaction)
        if on_search is None:
            return
        catalog, items = c.catalog_findings(on_search.payload)
        self.out.add(c.CATALOG_PROFILE, catalog)
        chosen = choose_lines(items)
        if not chosen:
            self.out.skip(
                c.QUOTE,
                "Le catalogue n'a aucun article commandable (prix, stock) : rien à chiffrer.",
                "The catalog has no item that can be ordered (price, stock): nothing to quote.",
            )
            return
        order = self.order(on_search.payload, chosen)
        _sent, on_select = self.request("select", {"order": order}, transaction)
        if on_select is None:
            self.out.add(c.LIFECYCLE, self.missing("select"))
            return
        self.out.add(c.QUOTE, c.quote_findings(on_select.payload, chosen))
        self.out.add(c.LIFECYCLE, c.callback_error_findings(on_select))
        self.lifecycle(order, transaction, on_select)
        self.refusals(transaction)
        self.nothing_after_refusals()

    def order(self, payload: Any, lines: list[QuotedLine]) -> dict[str, Any]:
        provider_id = lines[0].item.provider_id
        order: dict[str, Any] = {
            "provider": {"id": provider_id},
            "items": [
                {"id": line.item.item_id, "quantity": {"selected": {"count": line.count}}}
                for line in lines
            ],
        }
        fulfillment = choose_fulfillment(payload, lines)
        if fulfillment is not None:
            chosen: dict[str, Any] = {"id": fulfillment["id"]}
            if fulfillment.get("type") != "cueillette":
                chosen["stops"] = [json.loads(json.dumps(DELIVERY_STOP))]
            order["fulfillments"] = [chosen]
        payments = provider_payments(payload, provider_id)
        order["billing"] = dict(BILLING)
        order["payments"] = [{"type": payments[0]}] if payments else []
        return order

    def missing(self, action: str) -> list[Finding]:
        return [
            Finding(
                f"Pas de rappel on_{action} : le cycle s'arrête là.",
                f"No on_{action} callback: the life cycle stops there.",
                message=f"on_{action}",
            )
        ]

    def lifecycle(self, order: dict[str, Any], transaction: str, on_select: Received) -> None:
        for action in ("init", "confirm"):
            _sent, callback = self.request(action, {"order": order}, transaction)
            if callback is None:
                self.out.add(c.LIFECYCLE, self.missing(action))
                return
            self.out.add(c.LIFECYCLE, c.callback_error_findings(callback))
        confirmed = _order_of(callback)
        order_id = confirmed.get("id")
        if not isinstance(order_id, str) or not order_id:
            self.out.add(
                c.LIFECYCLE,
                [
                    Finding(
                        "on_confirm doit porter l'identifiant de la commande.",
                        "on_confirm must carry the order's id.",
                        message="on_confirm",
                        path="message.order.id",
                        got=confirmed.get("id"),
                    )
                ],
            )
            return
        self.out.add(c.LIFECYCLE, _status_findings("on_confirm", confirmed, "ACTIVE"))
        status_sent, on_status = self.request("status", {"order_id": order_id}, transaction)
        if on_status is None:
            self.out.add(c.LIFECYCLE, self.missing("status"))
        else:
            self.out.add(c.LIFECYCLE, c.callback_error_findings(on_status))
            self.out.add(c.LIFECYCLE, _same_order("on_status", _order_of(on_status), order_id))
        self.status_request = status_sent
        self.order_id = order_id
        _sent, on_cancel = self.request(
            "cancel",
            {"order_id": order_id, "cancellation_reason_id": "conformite"},
            transaction,
        )
        if on_cancel is None:
            self.out.add(c.LIFECYCLE, self.missing("cancel"))
            return
        self.out.add(c.LIFECYCLE, c.callback_error_findings(on_cancel))
        cancelled = _order_of(on_cancel)
        self.out.add(c.LIFECYCLE, _same_order("on_cancel", cancelled, order_id))
        self.out.add(c.LIFECYCLE, _status_findings("on_cancel", cancelled, "CANCELLED"))

    def refusals(self, transaction: str) -> None:
        original: Sent | None = getattr(self, "status_request", None)
        order_id = getattr(self, "order_id", None)
        if original is None or order_id is None:
            return
        # The same bytes and the same signature again: a replay.
        replay = self.tester.post(
            self.url,
            "status",
            original.body,
            header=original.headers["Authorization"],
            label="rejeu / replay",
        )
        self.refused.append(replay)
        self.out.add(c.REPLAY, c.ack_findings(replay, "NACK", REFUSAL_CODES, statuses=(400, 401)))

        def fresh() -> bytes:
            return encode(
                {
                    "context": self.tester.context(
                        "status",
                        transaction_id=transaction,
                        bpp_id=self.options.target,
                        bpp_uri=self.url,
                        city=self.options.city,
                        ttl=self.ttl_text,
                    ),
                    "message": {"order_id": order_id},
                }
            )

        body = fresh()
        created = int(time.time()) - 600
        header = self.tester.signer.sign(body, created=created, expires=created + 300)
        expired = self.tester.post(
            self.url, "status", body, header=header, label="signature expirée / expired"
        )
        self.refused.append(expired)
        self.out.add(c.EXPIRED, c.ack_findings(expired, "NACK", REFUSAL_CODES, statuses=(401,)))

        body = fresh()
        forged_body = body.replace(order_id.encode(), (order_id + "-X").encode(), 1)
        forged = self.tester.post(
            self.url,
            "status",
            body,
            send_body=forged_body,
            label="corps modifié / body changed",
        )
        self.refused.append(forged)
        self.out.add(
            c.FORGED,
            c.ack_findings(forged, "NACK", (ErrorCode.INVALID_SIGNATURE.value,), statuses=(401,)),
        )

    def nothing_after_refusals(self) -> None:
        """A refused request gets no callback (beyond the one of the original, for a replay)."""
        time.sleep(min(1.0, self.options.ttl))
        for sent, check in zip(self.refused, (c.REPLAY, c.EXPIRED, c.FORGED), strict=False):
            message_id = sent.context.get("message_id")
            answered = self.tester.inbox.all(
                lambda m, mid=message_id: m.action == "on_status" and m.message_id == mid
            )
            allowed = 1 if check is c.REPLAY else 0
            if len(answered) > allowed:
                self.out.add(
                    check,
                    [
                        Finding(
                            "Le nœud a répondu (on_status) à une requête qu'il devait refuser.",
                            "The node answered (on_status) a request it had to refuse.",
                            message=sent.name,
                            path="context.message_id",
                            expected=allowed,
                            got=len(answered),
                        )
                    ],
                    looked_at=0,
                )


def _order_of(callback: Received) -> dict[str, Any]:
    try:
        order = callback.payload["message"]["order"]
    except (KeyError, TypeError):
        return {}
    return order if isinstance(order, dict) else {}


def _status_findings(name: str, order: dict[str, Any], wanted: str) -> list[Finding]:
    if order.get("status") == wanted:
        return []
    return [
        Finding(
            f"État de la commande inattendu dans {name}.",
            f"Unexpected order status in {name}.",
            message=name,
            path="message.order.status",
            expected=wanted,
            got=order.get("status"),
        )
    ]


def _same_order(name: str, order: dict[str, Any], order_id: str) -> list[Finding]:
    if order.get("id") == order_id:
        return []
    return [
        Finding(
            f"{name} doit porter la commande confirmée.",
            f"{name} must carry the confirmed order.",
            message=name,
            path="message.order.id",
            expected=order_id,
            got=order.get("id"),
        )
    ]


def choose_lines(items: list[CatalogItem]) -> list[QuotedLine]:
    """Up to two items of one provider: a taxable one and a zero-rated one when there are,
    each at its minimum quantity, in stock, sharing a fulfilment when they list any."""
    by_provider: dict[str, list[CatalogItem]] = {}
    for item in items:
        if item.available is not None and item.available < item.minimum:
            continue
        by_provider.setdefault(item.provider_id, []).append(item)
    best: list[QuotedLine] = []
    for group in by_provider.values():
        picked: list[CatalogItem] = []
        for taxable in (True, False):
            for item in group:
                if item.taxable is taxable and all(_compatible(item, p) for p in picked):
                    picked.append(item)
                    break
        if not picked:
            picked = group[:1]
        lines = [QuotedLine(item, max(item.minimum, 1)) for item in picked]
        if len(lines) > len(best):
            best = lines
    return best


def _compatible(item: CatalogItem, other: CatalogItem) -> bool:
    if not item.fulfillment_ids or not other.fulfillment_ids:
        return True
    return bool(set(item.fulfillment_ids) & set(other.fulfillment_ids))


def _provider(payload: Any, provider_id: str) -> dict[str, Any]:
    try:
        providers = payload["message"]["catalog"]["providers"]
    except (KeyError, TypeError):
        return {}
    for provider in providers if isinstance(providers, list) else []:
        if isinstance(provider, dict) and provider.get("id") == provider_id:
            return provider
    return {}


def choose_fulfillment(payload: Any, lines: list[QuotedLine]) -> dict[str, Any] | None:
    """A fulfilment every chosen item may take: a pickup first (no address to give)."""
    provider = _provider(payload, lines[0].item.provider_id)
    options = [f for f in provider.get("fulfillments") or [] if isinstance(f, dict)]
    allowed = None
    for line in lines:
        if line.item.fulfillment_ids:
            ids = set(line.item.fulfillment_ids)
            allowed = ids if allowed is None else allowed & ids
    usable = [f for f in options if allowed is None or f.get("id") in allowed]
    usable.sort(key=lambda f: f.get("type") != "cueillette")
    return usable[0] if usable else None


def provider_payments(payload: Any, provider_id: str) -> list[str]:
    provider = _provider(payload, provider_id)
    return [
        p["type"]
        for p in provider.get("payments") or []
        if isinstance(p, dict) and isinstance(p.get("type"), str)
    ]


def run_seller(tester: Tester, options: SellerOptions) -> Report:
    """Every seller check against ``options.target``; the tester must be started and known
    to the registry."""
    return SellerRun(tester, options).run()

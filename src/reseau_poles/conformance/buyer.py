"""Against a buyer node (BAP): the tester plays a seller node.

The scenario: the registry's entry for the node; the sealed challenge at its
``/on_subscribe``; then the tester waits for a ``search`` from the node (an operator starts one
in the buyer application, or ``--trigger`` does) and checks it (signature with the key the
registry holds, context, schema). It answers with a valid signed ``on_search`` (the node must
ACK it), then with callbacks the node must refuse: one for a transaction it never started,
one whose body changed after signing, an exact replay of the valid one, one whose signature
has expired.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from reseau_poles.protocol.errors import ErrorCode
from reseau_poles.protocol.profile import (
    Conservation,
    ItemTags,
    LegalForm,
    ProviderTags,
    Region,
)

from . import checks as c
from .checks import Received, RegistryView, Sent
from .peer import Tester, encode, now_rfc3339
from .report import Finding, Report
from .runner import Collector

SIGNATURE_CODES = (ErrorCode.BUYER_INVALID_SIGNATURE.value, ErrorCode.BUYER_STALE_REQUEST.value)


@dataclass
class BuyerOptions:
    target: str  # the buyer node's subscriber id
    wait: float = 120.0  # how long to wait for the node's search
    # Called once the tester listens and is registered: starts a search on the node (tests,
    # or the CLI's --trigger command); None: a person does it.
    trigger: Callable[[], None] | None = None


def sample_catalog(tester: Tester) -> dict[str, Any]:
    """A small catalog of the Québec profile: one pôle, a taxable and a zero-rated item."""
    provider_tags = ProviderTags(legal_form=LegalForm.OBNL, region=Region.CAPITALE_NATIONALE)
    items = [
        {
            "id": "conformite-sirop-540ml",
            "descriptor": {"name": "Sirop d'érable 540 ml (essai de conformité)"},
            "price": {"currency": "CAD", "value": "12.50"},
            "quantity": {"available": {"count": 100}, "minimum": {"count": 1}},
            "tags": ItemTags(conservation=Conservation.AMBIANT, taxable=False).to_tags(),
        },
        {
            "id": "conformite-croustilles",
            "descriptor": {"name": "Croustilles à l'érable (essai de conformité)"},
            "price": {"currency": "CAD", "value": "3.49"},
            "quantity": {"available": {"count": 100}, "minimum": {"count": 1}},
            "tags": ItemTags(conservation=Conservation.AMBIANT, taxable=True).to_tags(),
        },
    ]
    return {
        "descriptor": {"name": f"Testeur de conformité {tester.subscriber_id}"},
        "providers": [
            {
                "id": "pole-conformite",
                "descriptor": {"name": "Pôle de conformité (fictif)"},
                "tags": provider_tags.to_tags(),
                "items": items,
            }
        ],
    }


class BuyerRun:
    def __init__(self, tester: Tester, options: BuyerOptions) -> None:
        self.tester = tester
        self.options = options
        self.out = Collector(c.BUYER_CHECKS)
        self.view = RegistryView()
        self.url = ""

    def run(self) -> Report:
        try:
            self._run()
        finally:
            self.out.skip_rest(
                "Non évaluée : une étape précédente a échoué (voir plus haut).",
                "Not evaluated: an earlier step failed (see above).",
            )
        return self.out.report(
            role="buyer",
            target=self.options.target,
            tester=self.tester.subscriber_id,
            registry_url=self.tester.registry_url,
        )

    def _run(self) -> None:
        target = self.options.target
        self.view = self.tester.lookup(target)
        self.out.add(c.REGISTRY_ENTRY, c.registry_entry_findings(self.view, target, "BAP"))
        if not self.view.records or not self.view.url:
            return
        self.url = self.view.url.rstrip("/")
        self.tester.check_challenge(self.out, self.url, target, self.view.encr_public_key)
        search = self.wait_search()
        if search is None:
            return
        self.judge_search(search)
        self.callbacks(search)

    def wait_search(self) -> Received | None:
        target = self.options.target
        self.tester.say(
            f"En attente d'une recherche (search) de {target} pendant "
            f"{self.options.wait:g} s : lancez une recherche dans l'application acheteuse, "
            "pour n'importe quelle région. / Waiting for a search from the buyer node."
        )
        if self.options.trigger is not None:
            self.options.trigger()
        search = self.tester.inbox.wait(
            lambda m: m.action == "search" and m.context.get("bap_id") == target,
            self.options.wait,
        )
        if search is None:
            self.out.add(
                c.BUYER_REQUEST,
                [
                    Finding(
                        f"Aucune recherche (search) reçue de {target} en {self.options.wait:g} s.",
                        f"No search received from {target} within {self.options.wait:g} s.",
                        message="search",
                        hints=[
                            f"Le testeur est inscrit comme nœud vendeur (BPP) à "
                            f"{self.tester.public_url}, pour toutes les régions ; le nœud "
                            "acheteur doit l'avoir trouvé au registre (ou par la passerelle)."
                        ],
                    )
                ],
            )
        return search

    def judge_search(self, search: Received) -> None:
        target = self.options.target
        keys, signature = c.signature_findings(
            search, self.view.keys, target, now=search.received_at
        )
        self.out.add(c.REGISTRY_KEY, keys)
        findings = list(signature)
        context = search.context
        for key, wanted in (("bap_id", target), ("bap_uri", self.url)):
            value = context.get(key)
            same = isinstance(value, str) and value.rstrip("/") == wanted
            if not same:
                findings.append(
                    Finding(
                        f"context.{key} ne correspond pas au registre.",
                        f"context.{key} does not match the registry.",
                        message=f"search {search.message_id or ''}".strip(),
                        path=f"context.{key}",
                        expected=wanted,
                        got=value,
                    )
                )
        self.out.add(c.BUYER_REQUEST, findings)
        self.out.add(c.SCHEMA, c.schema_findings("search", search.body))

    def on_search(
        self, search: Received, *, transaction_id: str | None = None, new_message: bool = False
    ) -> bytes:
        context = dict(search.context)
        context.update(
            action="on_search",
            bpp_id=self.tester.subscriber_id,
            bpp_uri=self.tester.public_url,
            timestamp=now_rfc3339(),
        )
        if transaction_id is not None:
            context["transaction_id"] = transaction_id
        if new_message:
            context["message_id"] = str(uuid.uuid4())
        return encode({"context": context, "message": {"catalog": sample_catalog(self.tester)}})

    def send(self, action: str, body: bytes, **kwargs: Any) -> Sent:
        return self.tester.post(self.url, action, body, **kwargs)

    def callbacks(self, search: Received) -> None:
        valid = self.on_search(search)
        accepted = self.send("on_search", valid)
        ack = c.ack_findings(accepted, "ACK")
        self.out.add(c.ACK_SHAPE, ack)
        self.out.add(c.CALLBACK_ACCEPTED, ack)

        unknown = self.send(
            "on_search",
            self.on_search(search, transaction_id=str(uuid.uuid4()), new_message=True),
            label="transaction inconnue / unknown transaction",
        )
        codes = (ErrorCode.BUYER_UNKNOWN_TRANSACTION.value,)
        self.out.add(c.UNKNOWN_TRANSACTION, c.ack_findings(unknown, "NACK", codes))
        status_context = dict(search.context)
        status_context.update(
            action="on_status",
            bpp_id=self.tester.subscriber_id,
            bpp_uri=self.tester.public_url,
            transaction_id=str(uuid.uuid4()),
            message_id=str(uuid.uuid4()),
            timestamp=now_rfc3339(),
        )
        status_body = encode(
            {
                "context": status_context,
                "message": {"order": {"id": f"CMD-{uuid.uuid4().hex[:8]}", "status": "ACTIVE"}},
            }
        )
        unknown_status = self.send(
            "on_status", status_body, label="transaction inconnue / unknown transaction"
        )
        self.out.add(c.UNKNOWN_TRANSACTION, c.ack_findings(unknown_status, "NACK", codes))

        body = self.on_search(search, new_message=True)
        payload = json.loads(body)
        payload["message"]["catalog"]["providers"][0]["items"][0]["price"]["value"] = "0.01"
        forged = self.send(
            "on_search", body, send_body=encode(payload), label="corps modifié / body changed"
        )
        self.out.add(
            c.FORGED,
            c.ack_findings(
                forged, "NACK", (ErrorCode.BUYER_INVALID_SIGNATURE.value,), statuses=(401,)
            ),
        )

        replay = self.send(
            "on_search",
            accepted.body,
            header=accepted.headers["Authorization"],
            label="rejeu / replay",
        )
        self.out.add(c.REPLAY, c.ack_findings(replay, "NACK", SIGNATURE_CODES, statuses=(400, 401)))

        body = self.on_search(search, new_message=True)
        created = int(time.time()) - 600
        header = self.tester.signer.sign(body, created=created, expires=created + 300)
        expired = self.send("on_search", body, header=header, label="signature expirée / expired")
        self.out.add(c.EXPIRED, c.ack_findings(expired, "NACK", SIGNATURE_CODES, statuses=(401,)))


def run_buyer(tester: Tester, options: BuyerOptions) -> Report:
    """Every buyer check against ``options.target``; the tester must be started and known
    to the registry as a BPP."""
    return BuyerRun(tester, options).run()

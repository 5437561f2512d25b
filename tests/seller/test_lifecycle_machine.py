"""Any sequence of the pôle's fulfilment moves and cancellations, and the buyer's cancel,
against a confirmed order (hypothesis ``RuleBasedStateMachine``, through the service on both
databases): the stored order always agrees with the protocol core's ``OrderLifecycle`` fed
the same steps (accepted and refused alike), stock is taken once and given back once, and
every accepted change leaves exactly one unsolicited on_status in the outbox."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select

from reseau_poles.network import NetworkSettings, NodeNetwork
from reseau_poles.network import migrate as migrate_network
from reseau_poles.network.tables import outbox_table
from reseau_poles.protocol.errors import LifecycleError, ProtocolError
from reseau_poles.protocol.lifecycle import Canceller, OrderLifecycle
from reseau_poles.protocol.models import format_datetime
from reseau_poles.protocol.profile import FulfillmentState
from reseau_poles.seller.app import migrate
from reseau_poles.seller.services.protocol import SellerService
from reseau_poles.seller.settings import SellerSettings
from reseau_poles.seller.tables import order_events, orders, stock
from reseau_poles.storage import make_engine, utcnow

from .support import CAPITALE, SYRUP, confirm_in_steps, load_catalog

STATES = [state.value for state in FulfillmentState]
BUYER = "acheteur.machine.example"


def request(action: str, transaction: str, message: dict[str, Any]) -> dict[str, Any]:
    return {
        "context": {
            "domain": "PLA:ALIMENTS",
            "location": {"city": {"code": "QC-03"}, "country": {"code": "CAN"}},
            "action": action,
            "version": "1.1.0",
            "bap_id": BUYER,
            "bap_uri": f"https://{BUYER}/beckn",
            "bpp_id": "vendeur.example",
            "bpp_uri": "https://vendeur.example/beckn",
            "transaction_id": transaction,
            "message_id": str(uuid.uuid4()),
            "timestamp": format_datetime(utcnow()),
            "ttl": "PT30S",
        },
        "message": message,
    }


def test_any_sequence_of_moves_keeps_order_stock_and_messages_in_step(
    database_url: str, tmp_path: Path
) -> None:
    engine = make_engine(database_url)
    migrate(engine)
    migrate_network(engine)
    items = load_catalog(engine, syrup_stock=100_000)
    network = NodeNetwork(
        subscriber_id="vendeur.example",
        role="BPP",
        signer=None,
        settings=NetworkSettings(registry_url="http://127.0.0.1:9", transcript_database=False),
        engine=engine,
        run_outbox=False,
    )
    service = SellerService(SellerSettings(subscriber_id="vendeur.example"), engine, network)

    def stock_left() -> int:
        with engine.connect() as connection:
            return int(
                connection.execute(
                    select(stock.c.quantity).where(stock.c.item_id == items[SYRUP])
                ).scalar_one()
            )

    class Machine(RuleBasedStateMachine):
        @initialize(
            fulfillment=st.sampled_from(["livraison-froid", "cueillette-vanier"]),
            count=st.integers(6, 20),
        )
        def confirm(self, fulfillment: str, count: int) -> None:
            self.transaction = str(uuid.uuid4())
            self.count = count
            self.before = stock_left()
            self.order_id = confirm_in_steps(
                service,
                request,
                self.transaction,
                {
                    "order": {
                        "provider": {"id": CAPITALE},
                        "items": [{"id": SYRUP, "quantity": {"selected": {"count": count}}}],
                        "fulfillments": [{"id": fulfillment}],
                        "billing": {"name": "CPE Les Bourgeons"},
                        "payments": [{"type": "POST-FULFILLMENT"}],
                    }
                },
            )
            self.model = OrderLifecycle()
            for action in ("select", "init", "confirm"):
                self.model.receive(action)
            kind = "livraison" if fulfillment.startswith("livraison") else "cueillette"
            self.model.set_fulfillment(fulfillment, kind)
            self.fulfillment = fulfillment
            self.sent = 0

        def _expect(self, step: Any, call: Any) -> None:
            """Run the model's step and the service's call: both accept or both refuse."""
            try:
                events = step()
            except LifecycleError as expected:
                try:
                    call()
                except ProtocolError as refused:
                    assert refused.code == expected.code
                    return
                raise AssertionError(
                    f"accepté par le nœud, refusé par le modèle : {expected}"
                ) from None
            call()
            if events:
                self.sent += 1

        @rule(state=st.sampled_from(STATES))
        def move(self, state: str) -> None:
            if state == "Cancelled":
                step = lambda: self.model.cancel(by=Canceller.SELLER)  # noqa: E731
            else:
                step = lambda: self.model.advance(self.fulfillment, state)  # noqa: E731
            self._expect(step, lambda: service.advance_fulfillment(CAPITALE, self.order_id, state))

        @rule()
        def seller_cancel(self) -> None:
            self._expect(
                lambda: self.model.cancel(by=Canceller.SELLER),
                lambda: service.seller_cancel(CAPITALE, self.order_id, "rupture"),
            )

        @rule()
        def buyer_cancel(self) -> None:
            before = self.sent
            self._expect(
                lambda: self.model.receive("cancel"),
                lambda: service.handle_cancel(
                    request("cancel", self.transaction, {"order_id": self.order_id})
                ),
            )
            self.sent = before  # answered by on_cancel, not an unsolicited on_status

        @invariant()
        def in_step(self) -> None:
            with engine.connect() as connection:
                row = (
                    connection.execute(select(orders).where(orders.c.id == self.order_id))
                    .mappings()
                    .one()
                )
                unsolicited = connection.execute(
                    select(func.count())
                    .select_from(outbox_table)
                    .where(
                        outbox_table.c.transaction_id == self.transaction,
                        outbox_table.c.action == "on_status",
                    )
                ).scalar_one()
                events = connection.execute(
                    select(func.count())
                    .select_from(order_events)
                    .where(order_events.c.order_id == self.order_id)
                ).scalar_one()
            progress = self.model.fulfillments[self.fulfillment]
            assert row["status"] == self.model.order_status.value
            assert row["fulfillment_state"] == progress.state.value
            assert row["document"]["fulfillments"][0]["state"]["descriptor"]["code"] == (
                progress.state.value
            )
            cancelled = row["status"] == "CANCELLED"
            assert stock_left() == self.before - (0 if cancelled else self.count)
            assert unsolicited == self.sent
            assert events >= 1 + self.sent

    run_state_machine_as_test(
        Machine,
        settings=settings(
            max_examples=25,
            stateful_step_count=10,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
    engine.dispose()

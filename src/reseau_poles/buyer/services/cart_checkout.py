"""Checkout of a multi-pôle cart (:mod:`.carts`): each group of lines (a pôle and its
fulfilment option) becomes one order, driven select → init → confirm by
:class:`~reseau_poles.buyer.services.orders.OrderService`, one task per group, concurrently.

Checkout is idempotent: the cart moves from ``ouvert`` to ``commande`` with a conditional
update, one ``buyer_cart_poles`` row per group is written in the same transaction (unique per
cart, pôle and option), and an order is created for a group only when neither that row nor
``buyer_orders`` (by ``cart_id``, pôle and option: a preview's order) has one. A second
checkout returns the cart as it is; it resumes groups left behind (a restarted node).

A retry (:meth:`CartService.retry`) takes the failed groups only, each on its own order (the
same transaction: select again after a refused quote, else init or confirm where it stopped).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
import weakref
from collections.abc import Mapping
from functools import partial
from typing import Any

from sqlalchemy.orm import Session

from reseau_poles.participant import ApiError
from reseau_poles.storage import read_session, utcnow, write_session

from ..repositories import carts as repo
from ..repositories import orders as order_repo
from ..repositories.carts import Key
from ..requests import CartFields, CartIn, CartLineIn, OrderIn
from . import carts as editing
from .cart_approval import check_orderable
from .cart_preview import needs_select, preview
from .carts import (
    RESUME_AFTER,
    STEP_WAIT_MS,
    _cart_row,
    _plan,
    _pole_state,
    _row_key,
    cart_document,
    check_window_alone,
)
from .orders import OrderService

log = logging.getLogger("reseau_poles.buyer.carts")


class CartService:
    """Drives each group's order (a pôle and its fulfilment option) of a checked-out cart;
    one task per group."""

    def __init__(self, orders: OrderService) -> None:
        self.orders = orders
        self.factory = orders.factory
        self.waiters = orders.waiters
        self._running: dict[tuple[str, str, str, str], asyncio.Task[None]] = {}
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    def _key(self, cart_id: str) -> str:
        return f"panier:{cart_id}"

    def lock(self, cart_id: str) -> asyncio.Lock:
        """The cart's lock while a group's order is found or made (previews and checkout of
        one cart at the same instant make one order per group, in this process)."""
        found = self._locks.get(cart_id)
        if found is None:
            found = self._locks.setdefault(cart_id, asyncio.Lock())
        return found

    def read(self, organisation_id: str, cart_id: str) -> dict[str, Any]:
        with read_session(self.factory) as session:
            return cart_document(session, _cart_row(session, organisation_id, cart_id))

    async def view(self, organisation_id: str, cart_id: str, wait_ms: int = 0) -> dict[str, Any]:
        return await self.waiters.wait_for(
            self._key(cart_id),
            lambda: self.read(organisation_id, cart_id),
            lambda doc: doc["checkout"]["state"] == "non_commande" or doc["checkout"]["done"],
            wait_ms,
        )

    # --- editing ------------------------------------------------------------------------------

    async def create(self, organisation_id: str, wanted: CartIn) -> dict[str, Any]:
        """A new cart (fields and lines optional, each checked); raises :class:`ApiError`."""
        check_window_alone(wanted)
        cart_id = str(uuid.uuid4())
        now = utcnow()

        def insert() -> dict[str, Any]:
            with write_session(self.factory) as session:
                return editing.create_cart(session, organisation_id, cart_id, wanted, now)

        return await asyncio.to_thread(insert)

    async def list_carts(self, organisation_id: str) -> list[dict[str, Any]]:
        def read() -> list[dict[str, Any]]:
            with read_session(self.factory) as session:
                return editing.list_carts(session, organisation_id)

        return await asyncio.to_thread(read)

    async def patch(
        self, organisation_id: str, cart_id: str, wanted: CartFields, present: set[str]
    ) -> dict[str, Any]:
        """Change the fields named in ``present``; raises :class:`CartNotFound`."""
        check_window_alone(wanted)

        def write() -> dict[str, Any]:
            with write_session(self.factory) as session:
                return editing.patch_cart(session, organisation_id, cart_id, wanted, present)

        return await asyncio.to_thread(write)

    async def add_line(
        self, organisation_id: str, cart_id: str, line: CartLineIn
    ) -> dict[str, Any]:
        def write() -> dict[str, Any]:
            with write_session(self.factory) as session:
                return editing.add_line(session, organisation_id, cart_id, line)

        return await asyncio.to_thread(write)

    async def remove_line(self, organisation_id: str, cart_id: str, line_id: str) -> dict[str, Any]:
        def write() -> dict[str, Any]:
            with write_session(self.factory) as session:
                return editing.remove_line(session, organisation_id, cart_id, line_id)

        return await asyncio.to_thread(write)

    async def preview(self, organisation_id: str, cart_id: str, wait_ms: int) -> dict[str, Any]:
        """Each group's quote (:mod:`.cart_preview`); raises :class:`CartNotFound`."""
        return await preview(self.orders, self.lock(cart_id), organisation_id, cart_id, wait_ms)

    # --- checkout ------------------------------------------------------------------------------

    def _start(self, organisation_id: str, cart_id: str) -> list[tuple[Key, OrderIn]]:
        """Move the cart to ``commande`` and write one row per group, or find it done already;
        returns the groups to drive now."""
        now = utcnow()
        with write_session(self.factory) as session:
            cart = _cart_row(session, organisation_id, cart_id, lock=True)
            if cart["state"] == "ouvert":
                check_orderable(session, organisation_id, cart)
            plan = _plan(session, organisation_id, cart) if cart["state"] == "ouvert" else None
            if plan is not None and repo.check_out(session, cart_id, now):
                for key, _ in plan:
                    repo.insert_pole(session, cart_id, key, now)
                return plan
            # Checked out already: resume the groups nobody drives any more.
            cart = _cart_row(session, organisation_id, cart_id)
            if cart["state"] != "commande":
                return []
            stale = [
                row
                for row in repo.poles_of(session, cart_id)
                if row["state"] in ("attente", "en_cours")
                and (cart_id, *_row_key(row)) not in self._running
                and now - row["updated_at"] > RESUME_AFTER
            ]
            return self._replan(session, organisation_id, cart, stale, "reprise")

    def _replan(
        self,
        session: Session,
        organisation_id: str,
        cart: Mapping[str, Any],
        rows: list[Mapping[str, Any]],
        step: str,
    ) -> list[tuple[Key, OrderIn]]:
        """The orders of ``rows``' groups as the cart says them now; a plan refused (a window
        now past …) is each row's failure."""
        if not rows:
            return []
        wanted = {_row_key(r) for r in rows}
        try:
            full = _plan(session, organisation_id, cart)
        except ApiError as exc:
            for row in rows:
                self._set(session, cart["id"], _row_key(row), "echec", error=_error_of(exc, step))
            return []
        return [(key, order) for key, order in full if key in wanted]

    async def checkout(self, organisation_id: str, cart_id: str) -> None:
        plan = await asyncio.to_thread(self._start, organisation_id, cart_id)
        self._launch(organisation_id, cart_id, plan)

    def _launch(self, organisation_id: str, cart_id: str, plan: list[tuple[Key, OrderIn]]) -> None:
        for key, order in plan:
            running = (cart_id, *key)
            task = asyncio.create_task(self._drive(organisation_id, cart_id, key, order))
            self._running[running] = task
            task.add_done_callback(partial(self._forget, running))

    def _forget(self, running: tuple[str, str, str, str], _task: asyncio.Task[None]) -> None:
        """A group's drive ended (confirmed, failed or cancelled): it is not running any more."""
        self._running.pop(running, None)

    def _take_failed(self, organisation_id: str, cart_id: str) -> list[tuple[Key, OrderIn]]:
        """The failed groups of a checked-out cart, moved back to ``attente`` (a conditional
        update: two retries at once take each group once). Groups that confirmed stay."""
        now = utcnow()
        with write_session(self.factory) as session:
            cart = _cart_row(session, organisation_id, cart_id, lock=True)
            if cart["state"] != "commande":
                raise ApiError(
                    409, "panier_non_commande", "Ce panier n'est pas encore commandé.", "id"
                )
            taken = []
            for row in repo.poles_of(session, cart_id):
                order = order_repo.get_order(session, row["order_id"]) if row["order_id"] else None
                if _pole_state(row, order) != "echec" or (
                    order is not None and order["state"] == "cancelled"
                ):
                    continue
                if repo.retake_failed_pole(session, row["id"], now):
                    taken.append(row)
            return self._replan(session, organisation_id, cart, taken, "reprise")

    async def retry(self, organisation_id: str, cart_id: str) -> None:
        """Order again, for the failed groups only, on their own orders (same transaction:
        a pôle that confirmed after all is never ordered twice, no order is left behind)."""
        plan = await asyncio.to_thread(self._take_failed, organisation_id, cart_id)
        self._launch(organisation_id, cart_id, plan)
        self.waiters.notify(self._key(cart_id))

    async def aclose(self) -> None:
        """Stop driving (the node is closing); a later checkout call resumes the groups."""
        tasks = list(self._running.values())
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    # --- one group ------------------------------------------------------------------------

    def _set(
        self,
        session: Session,
        cart_id: str,
        key: Key,
        state: str,
        *,
        order_id: str | None = None,
        error: dict[str, Any] | None = None,
    ) -> None:
        values: dict[str, Any] = {"state": state, "error": error, "updated_at": utcnow()}
        if order_id is not None:
            values["order_id"] = order_id
        repo.update_pole(session, cart_id, key, values)

    def _record(self, cart_id: str, key: Key, state: str, **kwargs: Any) -> None:
        with write_session(self.factory) as session:
            self._set(session, cart_id, key, state, **kwargs)

    def _existing_order(self, organisation_id: str, cart_id: str, key: Key) -> str | None:
        """The group's order: the one its row names, else one made for this cart and group
        (a preview's, or one whose row was not written before a restart)."""
        with read_session(self.factory) as session:
            found = repo.pole_order_id(session, cart_id, key)
            if found:
                return found
            return repo.cart_order(session, organisation_id, cart_id, key)

    async def _drive(self, organisation_id: str, cart_id: str, key: Key, order: OrderIn) -> None:
        """select → init → confirm for one group; every outcome ends in the group's row."""
        step = "select"
        try:
            sent: str | None = None
            async with self.lock(cart_id):  # a preview at the same instant: one order still
                order_id = await asyncio.to_thread(
                    self._existing_order, organisation_id, cart_id, key
                )
                if order_id is None:
                    started = await self.orders.create(organisation_id, order)
                    order_id, sent = started["id"], "select"
                else:
                    current = await self.orders.view(organisation_id, order_id)
                    if current["pending"] is None and needs_select(current, order):
                        await self.orders.reselect(organisation_id, order_id, order)
                        sent = "select"
                await asyncio.to_thread(self._record, cart_id, key, "en_cours", order_id=order_id)
            self.waiters.notify(self._key(cart_id))
            expected = {"select": "selected", "init": "initialized", "confirm": "confirmed"}
            wait = min(STEP_WAIT_MS, self.orders.settings.max_wait_ms)
            for _ in range(4):
                document = await self.orders.view(organisation_id, order_id, wait)
                state = document["state"]
                if document["pending"] is not None:
                    raise ApiError(
                        504,
                        "delai_depasse",
                        f"Pas de réponse du vendeur à « {document['pending']['action']} » "
                        f"après {wait // 1000} s ; la commande suit son cours.",
                        None,
                    )
                if state in ("confirmed", "completed"):
                    await asyncio.to_thread(self._record, cart_id, key, "confirmee")
                    return
                if state == "cancelled" or (
                    sent is not None and (state != expected[sent] or document["error"])
                ):
                    error = document["error"] or {
                        "code": "etat_inattendu",
                        "message": f"La commande est restée à l'état « {state} ».",
                    }
                    await asyncio.to_thread(
                        self._record, cart_id, key, "echec", error={**error, "step": sent or step}
                    )
                    return
                following = {"selected": "init", "initialized": "confirm"}.get(state)
                if following is None:
                    raise ApiError(
                        409,
                        "etat_inattendu",
                        f"La commande est à l'état « {state} » sans demande en cours.",
                        None,
                    )
                step = following
                terms = order.model_dump(
                    mode="json",
                    include={"billing", "payment", "purchase_order_number"},
                    exclude_none=True,
                )
                await self.orders.request(organisation_id, order_id, following, terms)
                sent = following
            raise ApiError(409, "etat_inattendu", "La commande n'avance plus.", None)
        except ApiError as exc:
            await asyncio.to_thread(self._record, cart_id, key, "echec", error=_error_of(exc, step))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a group must end in a recorded state
            log.exception("panier %s, pôle %s : échec", cart_id, key)
            await asyncio.to_thread(
                self._record,
                cart_id,
                key,
                "echec",
                error={"code": "erreur_interne", "message": repr(exc)[:300], "step": step},
            )
        finally:
            self.waiters.notify(self._key(cart_id))


def _error_of(exc: ApiError, step: str) -> dict[str, Any]:
    return {"code": exc.code, "message": exc.message, "path": exc.path, "step": step}

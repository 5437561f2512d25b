"""Order guides: an organisation's reusable lists of usual products and quantities (« guide
de commande »), the way a school kitchen reorders the same things every week.

A guide is made from an order (its lines and quantities, its delivery site) or from scratch
(lines picked among the products the organisation already ordered), its quantities edited;
:meth:`GuideService.order` turns it into a new open cart (:class:`~.cart_checkout.CartService`:
each line checked as any cart line is, against the pôle's catalogue as the organisation last
saw it). A line the cart refuses (the item no longer in the catalogue seen, sold out, a
quantity outside the pôle's limits) is reported with the cart service's reason and left out;
the others go in, so the person finishes the cart rather than starting over.

Refusals are :class:`GuideError` (``field``, ``code``, a French ``message``); an unknown
guide of the organisation is :class:`GuideNotFound`.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session, sessionmaker

from reseau_poles.participant import ApiError
from reseau_poles.protocol.models import format_datetime
from reseau_poles.storage import read_session, utcnow, write_session

from ..repositories import guides as repo
from ..repositories import orders as order_repo
from ..requests import MAX_LINES, CartIn, CartLineIn

if TYPE_CHECKING:
    from .cart_checkout import CartService

MAX_NAME_LENGTH = 255
MAX_QUANTITY = 1_000_000


class GuideNotFound(LookupError):
    """No such guide for this organisation."""


class GuideError(ValueError):
    """A value refused: ``field`` (the form's field), ``code`` (short, stable), ``message``."""

    def __init__(self, field: str, code: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Refused:
    """A guide line the cart did not take, and why (the cart service's code and message)."""

    line: dict[str, Any]
    code: str
    message: str


@dataclass(frozen=True)
class GuideOrder:
    """What :meth:`GuideService.order` made: the cart, the lines it took, those refused."""

    cart_id: str
    added: int
    refused: list[Refused] = field(default_factory=list)


def _time(value: datetime | None) -> str | None:
    return format_datetime(value) if value is not None else None


def check_name(name: str) -> str:
    value = " ".join(name.split())
    if not value:
        raise GuideError("name", "nom_requis", "Nommez le guide.")
    if len(value) > MAX_NAME_LENGTH:
        raise GuideError("name", "nom_trop_long", f"Au plus {MAX_NAME_LENGTH} caractères.")
    return value


def check_quantity(quantity: int, field: str = "quantity") -> int:
    if not 1 <= quantity <= MAX_QUANTITY:
        raise GuideError(field, "quantite_invalide", f"Quantité de 1 à {MAX_QUANTITY}.")
    return quantity


def _line(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "bpp_id": row["bpp_id"],
        "provider_id": row["provider_id"],
        "provider_name": row["provider_name"],
        "item_id": row["item_id"],
        "name": row["name"],
        "unit": row["unit"],
        "quantity": row["quantity"],
        "fulfilment_id": row["fulfilment_id"],
    }


def guide_document(session: Session, guide: Mapping[str, Any]) -> dict[str, Any]:
    """A guide with its lines, and its pôles in the order they first appear."""
    lines = [_line(row) for row in repo.lines_of(session, guide["id"])]
    poles: dict[tuple[str, str], str | None] = {}
    for line in lines:
        key = (line["bpp_id"], line["provider_id"])
        if poles.get(key) is None:
            poles[key] = line["provider_name"]
    return {
        "id": guide["id"],
        "name": guide["name"],
        "delivery_site_id": guide["delivery_site_id"],
        "created_by": guide["created_by"],
        "created_at": _time(guide["created_at"]),
        "updated_at": _time(guide["updated_at"]),
        "lines": lines,
        "poles": [
            {"bpp_id": bpp_id, "provider_id": provider_id, "name": name}
            for (bpp_id, provider_id), name in poles.items()
        ],
    }


class GuideService:
    """The organisation's guides, on the node's database; :meth:`order` needs the carts."""

    def __init__(self, factory: sessionmaker[Session], carts: CartService | None = None) -> None:
        self.factory = factory
        self.carts = carts

    # --- reading -------------------------------------------------------------------------------

    def _read(self, organisation_id: str, guide_id: str) -> dict[str, Any]:
        with read_session(self.factory) as session:
            guide = repo.get_guide(session, organisation_id, guide_id)
            if guide is None:
                raise GuideNotFound(guide_id)
            return guide_document(session, guide)

    async def get(self, organisation_id: str, guide_id: str) -> dict[str, Any]:
        return await asyncio.to_thread(self._read, organisation_id, guide_id[:64])

    async def list_guides(self, organisation_id: str) -> list[dict[str, Any]]:
        """The organisation's guides by name (200 at most), with their counts."""

        def read() -> list[dict[str, Any]]:
            with read_session(self.factory) as session:
                return [
                    {
                        "id": row["id"],
                        "name": row["name"],
                        "lines": int(row["lines"]),
                        "poles": int(row["poles"]),
                        "updated_at": _time(row["updated_at"]),
                    }
                    for row in repo.guides_of(session, organisation_id)
                ]

        return await asyncio.to_thread(read)

    async def ordered_products(self, organisation_id: str) -> list[dict[str, Any]]:
        """What the organisation already ordered, most recent first: the products a guide
        made from scratch picks from."""

        def read() -> list[dict[str, Any]]:
            with read_session(self.factory) as session:
                return [dict(row) for row in repo.ordered_products(session, organisation_id)]

        return await asyncio.to_thread(read)

    # --- making and changing ---------------------------------------------------------------

    def _write(self, organisation_id: str, guide_id: str, change: Any) -> dict[str, Any]:
        """Run ``change(session, guide)`` on the locked guide, touch it, return it."""
        with write_session(self.factory) as session:
            guide = repo.get_guide(session, organisation_id, guide_id[:64], lock=True)
            if guide is None:
                raise GuideNotFound(guide_id)
            change(session, guide)
            repo.update_guide(session, guide["id"], {"updated_at": utcnow()})
            found = repo.get_guide(session, organisation_id, guide["id"])
            assert found is not None
            return guide_document(session, found)

    async def create(
        self,
        organisation_id: str,
        name: str,
        *,
        user_id: int | None = None,
        delivery_site_id: str | None = None,
        lines: Sequence[Mapping[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """A new guide (``lines``: dicts of a line's columns, quantities checked)."""
        value = check_name(name)
        wanted = list(lines or [])
        if len(wanted) > MAX_LINES:
            raise GuideError("lines", "trop_de_lignes", f"Au plus {MAX_LINES} lignes.")
        for line in wanted:
            check_quantity(int(line["quantity"]))
        guide_id = str(uuid.uuid4())
        now = utcnow()

        def insert() -> dict[str, Any]:
            with write_session(self.factory) as session:
                repo.insert_guide(
                    session,
                    {
                        "id": guide_id,
                        "organisation_id": organisation_id,
                        "name": value,
                        "delivery_site_id": delivery_site_id,
                        "created_by": user_id,
                        "created_at": now,
                        "updated_at": now,
                    },
                )
                repo.insert_lines(
                    session,
                    guide_id,
                    [{**line, "position": index} for index, line in enumerate(wanted)],
                )
                guide = repo.get_guide(session, organisation_id, guide_id)
                assert guide is not None
                return guide_document(session, guide)

        return await asyncio.to_thread(insert)

    async def from_order(
        self, organisation_id: str, order_id: str, name: str, *, user_id: int | None = None
    ) -> dict[str, Any]:
        """A guide of an order's lines and quantities (as last quoted), its pôle's names and
        its delivery site; :class:`GuideError` ``commande`` when the order is not the
        organisation's or has no line."""
        check_name(name)

        def read() -> tuple[str | None, list[dict[str, Any]]]:
            with read_session(self.factory) as session:
                order = order_repo.get_order(session, order_id[:64])
                if order is None or order["organisation_id"] != organisation_id:
                    raise GuideError("order", "commande_inconnue", "Commande inconnue.")
                lines = [
                    {
                        "bpp_id": order["bpp_id"],
                        "provider_id": order["provider_id"],
                        "provider_name": order["provider_name"],
                        "item_id": line["item_id"],
                        "name": line["name"],
                        "unit": line["unit"],
                        "quantity": line["quantity"],
                        "fulfilment_id": (order["request"].get("fulfilment") or {}).get("id"),
                    }
                    for line in order_repo.lines_of(session, order["id"])
                    if line["quantity"] > 0
                ]
            return order["delivery_site_id"], lines

        site, lines = await asyncio.to_thread(read)
        if not lines:
            raise GuideError("order", "commande_vide", "Cette commande n'a aucune ligne.")
        return await self.create(
            organisation_id, name, user_id=user_id, delivery_site_id=site, lines=lines
        )

    async def rename(self, organisation_id: str, guide_id: str, name: str) -> dict[str, Any]:
        value = check_name(name)
        return await asyncio.to_thread(
            self._write,
            organisation_id,
            guide_id,
            lambda session, guide: repo.update_guide(session, guide["id"], {"name": value}),
        )

    async def set_quantities(
        self, organisation_id: str, guide_id: str, quantities: Mapping[int, int]
    ) -> dict[str, Any]:
        """New quantities by line id; 0 takes the line out. Lines of another guide are
        ignored; a quantity outside 0 … 1 000 000 is refused (``quantite_<id>``)."""
        for line_id, quantity in quantities.items():
            if quantity != 0:
                check_quantity(quantity, f"quantite_{line_id}")

        def change(session: Session, guide: Mapping[str, Any]) -> None:
            for line_id, quantity in quantities.items():
                if quantity == 0:
                    repo.delete_line(session, guide["id"], line_id)
                else:
                    repo.set_quantity(session, guide["id"], line_id, quantity)

        return await asyncio.to_thread(self._write, organisation_id, guide_id, change)

    async def add_product(
        self,
        organisation_id: str,
        guide_id: str,
        bpp_id: str,
        provider_id: str,
        item_id: str,
        quantity: int,
    ) -> dict[str, Any]:
        """Add one of the products the organisation already ordered (its names from there);
        the same product again: its new quantity."""
        check_quantity(quantity)

        def change(session: Session, guide: Mapping[str, Any]) -> None:
            known = next(
                (
                    p
                    for p in repo.ordered_products(session, organisation_id)
                    if (p["bpp_id"], p["provider_id"], p["item_id"])
                    == (bpp_id, provider_id, item_id)
                ),
                None,
            )
            if known is None:
                raise GuideError("product", "produit_inconnu", "Produit jamais commandé.")
            existing = repo.find_line(session, guide["id"], bpp_id, provider_id, item_id)
            if existing is not None:
                repo.set_quantity(session, guide["id"], existing["id"], quantity)
                return
            if len(repo.lines_of(session, guide["id"])) >= MAX_LINES:
                raise GuideError("product", "trop_de_lignes", f"Au plus {MAX_LINES} lignes.")
            repo.insert_lines(
                session,
                guide["id"],
                [
                    {
                        "position": repo.next_position(session, guide["id"]),
                        "bpp_id": bpp_id,
                        "provider_id": provider_id,
                        "provider_name": known["provider_name"],
                        "item_id": item_id,
                        "name": known["name"],
                        "unit": known["unit"],
                        "quantity": quantity,
                        "fulfilment_id": None,
                    }
                ],
            )

        return await asyncio.to_thread(self._write, organisation_id, guide_id, change)

    async def delete(self, organisation_id: str, guide_id: str) -> str:
        """Delete a guide and its lines; returns its name."""

        def remove() -> str:
            with write_session(self.factory) as session:
                guide = repo.get_guide(session, organisation_id, guide_id[:64], lock=True)
                if guide is None:
                    raise GuideNotFound(guide_id)
                repo.delete_guide(session, guide["id"])
                return str(guide["name"])

        return await asyncio.to_thread(remove)

    # --- ordering ------------------------------------------------------------------------------

    async def order(self, organisation_id: str, guide_id: str) -> GuideOrder:
        """A new open cart named after the guide, with its delivery site (when the site is
        still there) and every line the cart service takes; the others in ``refused``."""
        if self.carts is None:
            raise RuntimeError("GuideService sans CartService : impossible de commander")
        guide = await self.get(organisation_id, guide_id)
        if not guide["lines"]:
            raise GuideError("lines", "guide_vide", "Ce guide n'a aucune ligne.")
        name = guide["name"][:MAX_NAME_LENGTH]
        try:
            cart = await self.carts.create(
                organisation_id, CartIn(name=name, delivery_site_id=guide["delivery_site_id"])
            )
        except ApiError as exc:
            if exc.code != "site_inconnu":
                raise
            cart = await self.carts.create(organisation_id, CartIn(name=name))
        refused: list[Refused] = []
        for line in guide["lines"]:
            refusal = await self._add(organisation_id, cart["id"], line)
            if refusal is not None:
                refused.append(refusal)
        return GuideOrder(cart["id"], len(guide["lines"]) - len(refused), refused)

    async def _add(
        self, organisation_id: str, cart_id: str, line: dict[str, Any]
    ) -> Refused | None:
        """One guide line into the cart; ``None`` once taken. An option the pôle no longer
        offers: the line again without it (the pôle's default)."""
        assert self.carts is not None
        wanted = CartLineIn(
            bpp_id=line["bpp_id"],
            provider_id=line["provider_id"],
            item_id=line["item_id"],
            quantity=line["quantity"],
            fulfilment_id=line["fulfilment_id"],
        )
        while True:
            try:
                await self.carts.add_line(organisation_id, cart_id, wanted)
                return None
            except ApiError as exc:
                if exc.code != "mode_execution_inconnu" or wanted.fulfilment_id is None:
                    return Refused(line, exc.code, exc.message)
                wanted = wanted.model_copy(update={"fulfilment_id": None})

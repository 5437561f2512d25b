"""Stock movements: every change of an item's stock, with its reason.

Each write of ``seller_stock`` records, in the same transaction, one row of
``seller_stock_movements``: the reason (:class:`Reason`), the change (``delta``), the stock
once changed (``quantity``), a reference (the order id, the CSV import) and the time. Relative
changes read the resulting level from their own guarded ``UPDATE … RETURNING``, so a movement
is exact whatever runs at the same time, and the "never oversells" guarantee is the stock
table's as before (:func:`.stock.take_stock`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from reseau_poles.storage import all_rows, utcnow

from ..tables import stock_movements


class Reason(StrEnum):
    CREATION = "creation"
    INVENTAIRE = "inventaire"
    AJUSTEMENT = "ajustement"
    IMPORT_CSV = "import_csv"
    COMMANDE = "commande"
    MODIFICATION = "modification"
    ANNULATION = "annulation"
    REPRISE = "reprise"

    @property
    def label(self) -> str:
        return LABELS[self]


LABELS: dict[Reason, str] = {
    Reason.CREATION: "Création du produit",
    Reason.INVENTAIRE: "Stock fixé (inventaire)",
    Reason.AJUSTEMENT: "Ajustement",
    Reason.IMPORT_CSV: "Import CSV",
    Reason.COMMANDE: "Commande confirmée",
    Reason.MODIFICATION: "Commande modifiée par l'acheteur",
    Reason.ANNULATION: "Commande annulée : stock remis",
    Reason.REPRISE: "Stock repris à l'ouverture de l'historique",
}


def record(
    session: Session,
    item_id: int,
    reason: Reason,
    delta: int,
    quantity: int,
    reference: str | None = None,
    note: str | None = None,
) -> None:
    """One movement of ``item_id``: ``delta`` units, ``quantity`` left afterwards."""
    record_many(session, [(item_id, delta, quantity)], reason, reference, note)


def record_many(
    session: Session,
    changes: Iterable[tuple[int, int, int]],
    reason: Reason,
    reference: str | None = None,
    note: str | None = None,
) -> None:
    """Movements of many items at once: ``(item_id, delta, quantity)`` each."""
    now = utcnow()
    rows = [
        {
            "item_id": item_id,
            "reason": reason.value,
            "delta": delta,
            "quantity": quantity,
            "reference": reference[:128] if reference else None,
            "note": note[:255] if note else None,
            "created_at": now,
        }
        for item_id, delta, quantity in changes
    ]
    if rows:
        session.execute(insert(stock_movements), rows)


def movements_of(
    session: Session, item_id: int, *, limit: int, offset: int
) -> tuple[list[Mapping[str, Any]], int]:
    """A page of the item's movements, newest first, and how many there are in all."""
    where = stock_movements.c.item_id == item_id
    total = session.execute(
        select(func.count()).select_from(stock_movements).where(where)
    ).scalar_one()
    page = all_rows(
        session.execute(
            select(stock_movements)
            .where(where)
            .order_by(stock_movements.c.id.desc())
            .limit(limit)
            .offset(offset)
        )
    )
    return page, int(total)

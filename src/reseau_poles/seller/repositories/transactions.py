"""Where each buyer transaction stands before its confirm: the phase of the protocol core's
life cycle (:mod:`reseau_poles.protocol.lifecycle`) that ``select`` and ``init`` reached, one
row per ``(bap_id, transaction_id)``.

The seller node records the phase with the callback that carries the quote (``on_select``)
or the terms (``on_init``), in the same database transaction, and only when it answers
without error: a refused ``init`` leaves the transaction where it was. The confirm deletes the
row in the transaction that creates the order. Abandoned rows are deleted after
:data:`TRANSACTION_DAYS`, as new transactions begin.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Final

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from reseau_poles.protocol.lifecycle import Phase
from reseau_poles.storage import insert_for, utcnow

from ..tables import transactions

TRANSACTION_DAYS: Final = 30


def phase_of(session: Session, bap_id: str, transaction_id: str) -> Phase:
    """The recorded phase, :attr:`Phase.NEW` when nothing was recorded."""
    found = session.execute(
        select(transactions.c.phase).where(
            transactions.c.bap_id == bap_id, transactions.c.transaction_id == transaction_id
        )
    ).scalar()
    return Phase.NEW if found is None else Phase(found)


def record(session: Session, bap_id: str, transaction_id: str, phase: Phase) -> None:
    """Set the transaction's phase: one insert-or-update, safe under concurrent calls."""
    now = utcnow()
    if phase is Phase.SELECTED:
        # A select may open a transaction: forget the abandoned ones first (an indexed
        # range, usually empty).
        session.execute(
            delete(transactions).where(
                transactions.c.updated_at < now - timedelta(days=TRANSACTION_DAYS)
            )
        )
    values = {"phase": phase.value, "updated_at": now}
    session.execute(
        insert_for(session, transactions)
        .values(bap_id=bap_id, transaction_id=transaction_id, **values)
        .on_conflict_do_update(index_elements=["bap_id", "transaction_id"], set_=values)
    )


def forget(session: Session, bap_id: str, transaction_id: str) -> None:
    """The order is confirmed: its own life cycle takes over."""
    session.execute(
        delete(transactions).where(
            transactions.c.bap_id == bap_id, transactions.c.transaction_id == transaction_id
        )
    )

"""The cold-chain rule: refrigerated or frozen goods only travel by a fulfilment that keeps
them in their conditions (40011 ``COLD_CHAIN_REQUIRED`` otherwise).

Which fulfilment carries an item: the item's ``fulfillment_ids`` (Beckn 1.1), or its
``fulfillment_id`` (1.0 and ONDC); an item that names none travels by every fulfilment of the
order, so each of them must keep its class. An order without any fulfilment yet (a ``select``
that has not chosen one) has nothing to check.

The seller knows its items and fulfilments from its own catalog, while a ``select`` or
``init`` carries only ids: pass ``item_conservation`` and ``fulfillment_cold_chain`` from the
catalog. Without them the function reads the tags in the order itself; an item with no
conservation class is taken as ambient, and a fulfilment with no ``chaine_froid`` group as
keeping no cold chain.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import ErrorCode, ProtocolError
from ._plain import as_list, as_mapping
from .item_tags import parse_conservation
from .party_tags import parse_fulfillment_tags
from .vocabulary import Conservation


@dataclass(frozen=True, slots=True)
class ColdChainViolation:
    """An item line whose conservation class a fulfilment serving it does not keep."""

    item_id: str
    item_index: int
    conservation: Conservation
    fulfillment_id: str

    @property
    def message(self) -> str:
        return (
            f"Le produit « {self.item_id} » ({self.conservation.label.lower()}) exige la "
            f"chaîne de froid, que l'exécution « {self.fulfillment_id} » ne maintient pas."
        )


def _fulfillment_ids(item: Mapping[str, Any]) -> list[str]:
    ids = as_list(item.get("fulfillment_ids"))
    if ids:
        return [str(value) for value in ids]
    single = item.get("fulfillment_id")
    return [str(single)] if single else []


def cold_chain_violations(
    order: Any,
    *,
    path: str = "message.order",
    item_conservation: Mapping[str, Conservation] | None = None,
    fulfillment_cold_chain: Mapping[str, Iterable[Conservation]] | None = None,
    error_code: ErrorCode = ErrorCode.INVALID_REQUEST,
) -> list[ColdChainViolation]:
    """Every (item line, fulfilment) pair that breaks the cold chain, in message order.

    ``order`` is a Beckn ``Order`` (dict or model) with ``items`` and ``fulfillments``;
    ``path`` is its JSON path, used only when its tags are malformed.
    """
    data = as_mapping(order) or {}
    fulfillments: dict[str, frozenset[Conservation]] = {}
    for index, fulfillment in enumerate(as_list(data.get("fulfillments")) or []):
        entry = as_mapping(fulfillment) or {}
        fulfillment_id = str(entry.get("id", index))
        if fulfillment_cold_chain is not None and fulfillment_id in fulfillment_cold_chain:
            fulfillments[fulfillment_id] = frozenset(fulfillment_cold_chain[fulfillment_id])
        else:
            tags = parse_fulfillment_tags(
                entry.get("tags"),
                path=f"{path}.fulfillments[{index}].tags",
                error_code=error_code,
            )
            fulfillments[fulfillment_id] = tags.cold_chain
    if not fulfillments and not fulfillment_cold_chain:
        return []

    violations: list[ColdChainViolation] = []
    for index, item in enumerate(as_list(data.get("items")) or []):
        entry = as_mapping(item) or {}
        item_id = str(entry.get("id", index))
        if item_conservation is not None and item_id in item_conservation:
            conservation: Conservation | None = item_conservation[item_id]
        else:
            conservation = parse_conservation(
                entry.get("tags"), path=f"{path}.items[{index}].tags", error_code=error_code
            )
        if conservation is None or not conservation.needs_cold_chain:
            continue
        for fulfillment_id in _fulfillment_ids(entry) or list(fulfillments):
            kept = fulfillments.get(fulfillment_id)
            if kept is None and fulfillment_cold_chain is not None:
                kept = frozenset(fulfillment_cold_chain.get(fulfillment_id, ()))
            if conservation not in (kept or frozenset()):
                violations.append(ColdChainViolation(item_id, index, conservation, fulfillment_id))
    return violations


def check_cold_chain(
    order: Any,
    *,
    path: str = "message.order",
    item_conservation: Mapping[str, Conservation] | None = None,
    fulfillment_cold_chain: Mapping[str, Iterable[Conservation]] | None = None,
) -> None:
    """Refuse the order with 40011 when an item would leave the cold chain.

    The error's path points at the first offending item line; ``details["item_ids"]`` lists
    every offending item id (each once, in order) so that a buyer app can flag them all.
    """
    violations = cold_chain_violations(
        order,
        path=path,
        item_conservation=item_conservation,
        fulfillment_cold_chain=fulfillment_cold_chain,
    )
    if not violations:
        return
    first = violations[0]
    item_ids = list(dict.fromkeys(violation.item_id for violation in violations))
    message = first.message
    if len(item_ids) > 1:
        message += f" ({len(item_ids)} produits concernés.)"
    raise ProtocolError(
        message,
        code=ErrorCode.COLD_CHAIN_REQUIRED,
        path=f"{path}.items[{first.item_index}]",
        details={"item_ids": item_ids},
    )

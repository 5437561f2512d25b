"""The check of an ``on_select`` quote: line amounts, TPS and TVQ per line and in total,
zero-rated items, the total."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from reseau_poles.protocol.profile import (
    TPS_RATE,
    TVQ_RATE,
    round_cents,
)

from ..report import Finding
from .catalog import CatalogItem, _decimal


@dataclass(frozen=True)
class QuotedLine:
    """What the tester asked for: an item, its count, and what the catalog said of it."""

    item: CatalogItem
    count: int


def _is_tax_line(title: Any, label: str) -> bool:
    return isinstance(title, str) and title.strip().upper().startswith(label)


def quote_findings(payload: Any, lines: Sequence[QuotedLine]) -> list[Finding]:
    """The quote of an ``on_select``: each item line is its unit price × count (rounded to
    the cent), a zero-rated item carries no tax, TPS and TVQ are the sums of the per-line
    taxes (5 % and 9.975 %, each rounded to the cent, halves up), and the total adds up."""
    name = "on_select"
    base = "message.order.quote"
    try:
        quote = payload["message"]["order"]["quote"]
        breakup = quote["breakup"]
    except (KeyError, TypeError):
        return [
            Finding(
                "Devis absent (message.order.quote.breakup).",
                "No quote (message.order.quote.breakup).",
                message=name,
                path=f"{base}.breakup",
            )
        ]
    wanted = {line.item.item_id: line for line in lines}
    findings: list[Finding] = []
    total = Decimal(0)
    tps_expected = Decimal(0)
    tvq_expected = Decimal(0)
    tps_got: Decimal | None = None
    tvq_got: Decimal | None = None
    others: list[Decimal] = []
    seen: set[str] = set()
    for k, line in enumerate(breakup if isinstance(breakup, list) else []):
        at = f"{base}.breakup[{k}]"
        price = line.get("price") if isinstance(line, dict) else None
        amount = _decimal(price.get("value")) if isinstance(price, dict) else None
        if amount is None or not isinstance(price, dict):  # a dict whenever amount is read
            findings.append(
                Finding(
                    "Montant de ligne illisible.",
                    "Unreadable line amount.",
                    message=name,
                    path=f"{at}.price.value",
                    got=price,
                )
            )
            continue
        if isinstance(price, dict) and price.get("currency") != "CAD":
            findings.append(
                Finding(
                    "Montant attendu en CAD.",
                    "Amount expected in CAD.",
                    message=name,
                    path=f"{at}.price.currency",
                    expected="CAD",
                    got=price.get("currency"),
                )
            )
        total += amount
        title = line.get("title")
        item = found if isinstance(found := line.get("item"), dict) else None
        if item is not None and item.get("id") in wanted:
            asked = wanted[item["id"]]
            seen.add(item["id"])
            expected = round_cents(asked.item.price * asked.count)
            if amount != expected:
                findings.append(
                    Finding(
                        f"Montant de la ligne {item['id']} : prix unitaire × quantité "
                        f"({asked.item.price} × {asked.count}).",
                        f"Amount of line {item['id']}: unit price × quantity "
                        f"({asked.item.price} × {asked.count}).",
                        message=name,
                        path=f"{at}.price.value",
                        expected=f"{expected:.2f}",
                        got=price.get("value"),
                    )
                )
            if asked.item.taxable is None:
                # The catalog did not say (profil.catalogue reports it): either is accepted.
                others.append(amount)
                continue
            taxable = asked.item.taxable
            tps = round_cents(amount * TPS_RATE) if taxable else Decimal("0.00")
            tvq = round_cents(amount * TVQ_RATE) if taxable else Decimal("0.00")
            tps_expected += tps
            tvq_expected += tvq
            findings.extend(_line_tax_findings(item, at, tps, tvq, taxable))
        elif _is_tax_line(title, "TPS"):
            tps_got = amount
        elif _is_tax_line(title, "TVQ"):
            tvq_got = amount
        else:
            others.append(amount)
    for missing in sorted(set(wanted) - seen):
        findings.append(
            Finding(
                f"L'article {missing} demandé n'a pas de ligne au devis.",
                f"Item {missing} asked for has no line in the quote.",
                message=name,
                path=f"{base}.breakup",
                expected=missing,
            )
        )
    # Fees (delivery…) are taxable or not at the seller's choice: any choice is accepted.
    # (At most four such lines are combined; beyond, the others count as taxable.)
    choices_tps: set[Decimal] = set()
    choices_tvq: set[Decimal] = set()
    combined = min(len(others), 4)
    for chosen in itertools.product((False, True), repeat=combined):
        flags = (*chosen, *(True,) * (len(others) - combined))
        taxed = [amount for amount, flag in zip(others, flags, strict=True) if flag]
        choices_tps.add(tps_expected + sum((round_cents(a * TPS_RATE) for a in taxed), Decimal(0)))
        choices_tvq.add(tvq_expected + sum((round_cents(a * TVQ_RATE) for a in taxed), Decimal(0)))
    for label, got, choices in (("TPS", tps_got, choices_tps), ("TVQ", tvq_got, choices_tvq)):
        zero = choices == {Decimal(0)}
        if got is None and zero:
            continue
        if got is None or got not in choices:
            findings.append(
                Finding(
                    f"Ligne {label} : somme des taxes de chaque ligne taxable, arrondies au "
                    "cent (articles détaxés exclus).",
                    f"{label} line: sum of the taxes of each taxable line, rounded to the cent "
                    "(zero-rated items excluded).",
                    message=name,
                    path=f"{base}.breakup[title={label}]",
                    expected=" | ".join(f"{c:.2f}" for c in sorted(choices)),
                    got=None if got is None else f"{got:.2f}",
                )
            )
    declared = found if isinstance(found := quote.get("price"), dict) else {}
    declared_value = _decimal(declared.get("value"))
    if declared_value != total:
        findings.append(
            Finding(
                "Le total du devis n'est pas la somme de ses lignes.",
                "The quote's total is not the sum of its lines.",
                message=name,
                path=f"{base}.price.value",
                expected=f"{total:.2f}",
                got=declared.get("value"),
            )
        )
    return findings


def _line_tax_findings(
    item: Mapping[str, Any], at: str, tps: Decimal, tvq: Decimal, taxable: bool
) -> list[Finding]:
    """The per-line tax tags (``taxes_ligne``), when the seller gives them."""
    findings = []
    for g, group in enumerate(item.get("tags") or []):
        if not isinstance(group, dict):
            continue
        for t, entry in enumerate(group.get("list") or []):
            if not isinstance(entry, dict):
                continue
            code = (entry.get("descriptor") or {}).get("code")
            if not isinstance(code, str):
                continue
            expected = {"tps": tps, "tvq": tvq}.get(code)
            if expected is None:
                continue
            value = _decimal(entry.get("value"))
            if value != expected:
                findings.append(
                    Finding(
                        f"{code.upper()} de la ligne"
                        + (" (article détaxé : 0.00)" if not taxable else "")
                        + ".",
                        f"Line {code.upper()}"
                        + (" (zero-rated item: 0.00)" if not taxable else "")
                        + ".",
                        message="on_select",
                        path=f"{at}.item.tags[{g}].list[{t}].value",
                        expected=f"{expected:.2f}",
                        got=entry.get("value"),
                    )
                )
    return findings

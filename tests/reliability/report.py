"""Render the figures of a reliability run as Markdown tables (for docs/reliability.md).

python -m tests.reliability.report build/reliability/results.jsonl
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

ROLE_ORDER = [
    "gateway_search",
    "seller_search",
    "seller_select",
    "buyer_on_search",
    "registry_admin",
]
ROLE_TITLES = {
    "gateway_search": "passerelle /search",
    "seller_search": "vendeur /search",
    "seller_select": "vendeur /select",
    "buyer_on_search": "acheteur /on_search",
    "registry_admin": "registre /admin",
}


def load(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def attacks_table(rows: list[dict[str, Any]]) -> str:
    cells: dict[tuple[str, str], str] = {}
    labels: dict[str, str] = {}
    order: list[str] = []
    for row in rows:
        if row["attack"] not in labels:
            order.append(row["attack"])
        labels[row["attack"]] = row["label"]
        extra = f" ×{row['cases']}" if row.get("cases", 1) > 1 else ""
        cells[(row["attack"], row["role"])] = f"{row['status']} {row['code']}{extra}"
    header = "| attaque | " + " | ".join(ROLE_TITLES[r] for r in ROLE_ORDER) + " |"
    lines = [header, "|---" * (len(ROLE_ORDER) + 1) + "|"]
    for attack in order:
        values = [cells.get((attack, role), "s.o.") for role in ROLE_ORDER]
        lines.append(f"| {labels[attack]} | " + " | ".join(values) + " |")
    refused = sum(row.get("cases", 1) for row in rows)
    lines.append("")
    lines.append(
        f"{len(rows)} combinaisons attaque × rôle, {refused} requêtes hostiles, toutes refusées."
    )
    return "\n".join(lines)


def fuzz_table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| rôle | opérations | cas envoyés | échecs | réponses (statut : nombre) |",
        "|---|---|---|---|---|",
    ]
    for row in rows:
        statuses = ", ".join(f"{k} : {v}" for k, v in row.get("statuses", {}).items())
        lines.append(
            f"| {row['role']} | {row['operations']} | {row['cases']} | {row['failures']} | {statuses} |"
        )
    return "\n".join(lines)


def other_table(rows: list[dict[str, Any]]) -> str:
    lines = []
    for row in rows:
        fields = {k: v for k, v in row.items() if k != "kind"}
        lines.append("- " + ", ".join(f"{k} = {v}" for k, v in fields.items()))
    return "\n".join(lines)


def render(rows: list[dict[str, Any]]) -> str:
    by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_kind[row["kind"]].append(row)
    parts = []
    if by_kind["attack"]:
        parts += ["## Attaques sur les signatures", "", attacks_table(by_kind["attack"]), ""]
    if by_kind["schemathesis"]:
        parts += ["## schemathesis", "", fuzz_table(by_kind["schemathesis"]), ""]
    if by_kind["fault"]:
        parts += ["## Pannes", "", other_table(by_kind["fault"]), ""]
    if by_kind["concurrency"]:
        parts += ["## Concurrence", "", other_table(by_kind["concurrency"]), ""]
    return "\n".join(parts)


def main(argv: list[str]) -> int:
    path = Path(argv[1] if len(argv) > 1 else "build/reliability/results.jsonl")
    if not path.exists():
        print(f"aucun résultat : {path}")
        return 1
    print(render(load(path)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

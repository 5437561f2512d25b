"""The README shows what ``make demo`` prints about the portal: its addresses and the demo
accounts, line for line, for the default ports and seller nodes (only the password, drawn at
random for each demo folder, is left out)."""

from __future__ import annotations

import re
from pathlib import Path

from rich.console import Console

from reseau_poles.demo.accounts import pole_email, print_portals
from reseau_poles.demo.network import DemoNetwork
from reseau_poles.demo.participants import DEFAULT_BASE_PORT, DEFAULT_SELLER_NODES

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_shows_the_portal_block_make_demo_prints(tmp_path: Path) -> None:
    net = DemoNetwork(
        tmp_path / "demo", base_port=DEFAULT_BASE_PORT, seller_nodes=DEFAULT_SELLER_NODES
    )
    net.state["accounts"] = {
        "password": "demo-…",
        "poles": {pole.id: pole_email(pole.id) for seller in net.sellers for pole in seller.poles},
    }
    console = Console(record=True, width=100, color_system=None)
    print_portals(console, net)
    printed = console.export_text()
    block = re.search(r"```text\n(Le portail \(pages web.*?)```", README.read_text("utf-8"), re.S)
    assert block, "README.md n'a plus le bloc du portail affiché par make demo"
    assert block[1] == printed

"""``reseau-poles demo [--once]``: bring the network up, then wait for Ctrl-C or run the
scenario; every child process is stopped on the way out, whatever happened."""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from rich.console import Console

from reseau_poles.files import open_private

from .accounts import print_portals
from .network import DemoError, DemoNetwork, terminating_signals
from .tour import print_running, print_tour


def run_demo(
    console: Console,
    *,
    data_dir: Path,
    base_port: int,
    seller_nodes: int,
    once: bool = False,
    transcript: Path | None = None,
) -> int:
    """0 when the network ran (and, with ``once``, the scenario passed); 1 otherwise."""
    started = time.monotonic()
    # Each node writes its own JSONL file; they are merged into ``transcript`` at the end.
    scratch = (
        Path(tempfile.mkdtemp(prefix="reseau-poles-transcripts-"))
        if transcript is not None
        else None
    )
    net = DemoNetwork(
        data_dir,
        base_port=base_port,
        seller_nodes=seller_nodes,
        transcript_dir=scratch,
        say=lambda text: console.print(text, highlight=False),
    )
    code = 0
    with terminating_signals():
        try:
            console.print(f"Démarrage du réseau de démonstration dans [bold]{net.root}[/]…")
            net.prepare()
            net.start()
            console.print(
                f"[green]Réseau prêt[/] en {time.monotonic() - started:.1f} s : "
                f"{len(net.participants)} processus, 25 pôles, "
                f"{sum(len(p.items) for s in net.sellers for p in s.poles)} produits."
            )
            print_running(console, net)
            print_portals(console, net)
            if once:
                from .scenario import run_scenario

                code = 0 if run_scenario(net, console) else 1
            else:
                console.print()
                print_tour(console, net)
                while True:
                    net.check_children()
                    time.sleep(0.5)
        except KeyboardInterrupt:
            console.print("\nArrêt demandé : arrêt de chaque processus…")
            if once:
                code = 130  # the scenario did not finish: not a success
        except DemoError as exc:
            console.print(f"[red]Erreur :[/] {exc}", highlight=False)
            code = 1
        finally:
            net.stop()
            if scratch is not None and transcript is not None:
                count = merge_transcripts(scratch, transcript)
                console.print(f"Transcription : {count} messages dans {transcript}")
                shutil.rmtree(scratch, ignore_errors=True)
    if not once and code == 0:
        console.print("Tout est arrêté. « reseau-poles demo » relance le même réseau.")
    return code


def merge_transcripts(folder: Path, target: Path) -> int:
    """Every node's JSONL transcript in one file, in time order, protocol messages only
    (the client and management APIs are left out: they carry API keys)."""
    import json

    entries = []
    for path in sorted(folder.glob("*.jsonl")):
        node = path.stem
        for line in path.read_text("utf-8").splitlines():
            if not line.strip():
                continue
            entry = json.loads(line)
            url = str(entry.get("url") or "")
            if "/api/" in url or url.endswith("/on_subscribe") or url.endswith("/health"):
                continue
            entry["node"] = node
            entries.append(entry)
    entries.sort(key=lambda e: (e.get("recorded_at") or "", e.get("node")))
    with open_private(target, "w", encoding="utf-8") as handle:
        for entry in entries:
            handle.write(json.dumps(entry, ensure_ascii=False) + "\n")
    return len(entries)

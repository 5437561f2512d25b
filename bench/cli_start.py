"""Start time of ``reseau-poles`` commands against a bare ``python -c "import json"``.

    python bench/cli_start.py [--runs 15]

Each command runs ``--runs`` times in a fresh interpreter, as a user's command does (the same
code as the ``reseau-poles`` console script); the commands take turns, round after round, so
that a busy machine slows them all alike. Printed: the median wall time of each command, the
median of ``python -c "import json"`` measured in the same rounds, and their ratio; then the
same for the processor time of the child (user + system), steadier when other work shares the
processors. Target (issue 13): every help page, and a command that talks to one endpoint,
within 8x the bare interpreter (wall time).

The endpoint command is ``registry admin list`` against a registry served on loopback by this
process (SQLite in a temporary folder, the operator's key written for the command): once with
``--keys FOLDER``, once run from the folder holding ``cles-operateur``, the default (Typer turns
the text of ``--keys`` into a path with pydantic, which the default spares).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET = 8.0
ENTRY = "import sys; from reseau_poles.cli import app; sys.exit(app())"
HELP_COMMANDS = (
    ("--help",),
    ("registry", "--help"),
    ("gateway", "--help"),
    ("seller", "--help"),
    ("buyer", "--help"),
    ("registry", "admin", "--help"),
    ("seller", "import", "--help"),
    ("keys", "generate", "--help"),
)


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(argv: list[str], cwd: Path | None = None) -> tuple[float, float]:
    """The wall time and the processor time of one run of ``argv``."""
    cpu, start = children_cpu(), time.perf_counter()
    result = subprocess.run(
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False, cwd=cwd
    )
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"{argv[3:]} : code {result.returncode}\n{result.stderr.decode()}")
    return elapsed, children_cpu() - cpu


def start_registry(folder: Path) -> tuple[str, Path, object]:
    """A registry on loopback and the folder of its operator's keys."""
    from reseau_poles.keystore import KeyFiles
    from reseau_poles.protocol.keys import SubscriberKeys
    from reseau_poles.registry.app import create_app
    from reseau_poles.registry.settings import OperatorKey, RegistrySettings
    from support import ServerThread, free_port

    operator = SubscriberKeys.generate("operateur.bench.example", "op-1")
    keys = folder / "cles-operateur"
    KeyFiles(keys).write(operator)
    settings = RegistrySettings(
        database_url=f"sqlite:///{folder / 'registry.sqlite'}",
        key_dir=folder / "registry-keys",
        subscriber_id="registre.bench.example",
        operators=[
            OperatorKey(
                operator_id=operator.subscriber_id,
                key_id=operator.key_id,
                signing_public_key=operator.signing.public_key_b64,
            )
        ],
    )
    port = free_port()
    server = ServerThread(create_app(settings), port).start()
    return f"http://127.0.0.1:{port}", keys, server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        url, keys, server = start_registry(Path(tmp))
        endpoint = ("registry", "admin", "--registry", url, "--keys", str(keys), "list")
        by_default = ("registry", "admin", "--registry", url, "list")
        commands = {" ".join(c): (list(c), None) for c in HELP_COMMANDS}
        commands["registry admin --keys … list (HTTP)"] = (list(endpoint), None)
        commands["registry admin list (HTTP)"] = (list(by_default), keys.parent)
        baseline = [sys.executable, "-c", "import json"]
        samples: dict[str, list[tuple[float, float]]] = {name: [] for name in ["", *commands]}
        try:
            run([sys.executable, "-c", ENTRY, *endpoint])  # warm the caches once
            for _ in range(args.runs):
                samples[""].append(run(baseline))
                for name, (argv, cwd) in commands.items():
                    samples[name].append(run([sys.executable, "-c", ENTRY, *argv], cwd))
        finally:
            server.stop()  # type: ignore[attr-defined]

    def median(name: str, which: int) -> float:
        return statistics.median(sample[which] for sample in samples[name])

    wall, cpu = median("", 0), median("", 1)
    print(
        f'python -c "import json" : {wall * 1000:.0f} ms, processeur {cpu * 1000:.0f} ms '
        f"(médianes de {args.runs})"
    )
    print(f"{'reseau-poles …':<36} {'médiane':>9} {'rapport':>8} {'processeur':>11} {'rapport':>8}")
    worst = {"pages d'aide": 0.0, "commandes HTTP": 0.0}
    for name in commands:
        command_wall, command_cpu = median(name, 0), median(name, 1)
        kind = "commandes HTTP" if name.endswith("(HTTP)") else "pages d'aide"
        worst[kind] = max(worst[kind], command_wall / wall)
        print(
            f"{name:<36} {command_wall * 1000:>6.0f} ms {command_wall / wall:>7.1f}x "
            f"{command_cpu * 1000:>8.0f} ms {command_cpu / cpu:>7.1f}x"
        )
    for kind, ratio in worst.items():
        verdict = "atteinte" if ratio <= TARGET else "manquée"
        print(f"{kind}, pire rapport : {ratio:.1f}x (cible ≤ {TARGET:.0f}x : {verdict})")


if __name__ == "__main__":
    main()

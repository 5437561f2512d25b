"""Sign and verify rates of `reseau_poles.protocol.signing` against the bare PyNaCl/hashlib floor.

The floor does only what any BECKN-006 signer must: BLAKE2b-512 of the body, base64, the
signing string, and one Ed25519 operation through PyNaCl's libsodium bindings. The library
adds header building, parsing and the checks of PROTOCOL.md. Target: overhead < 20 %.

    python bench/signing.py [--rounds N]

Figures are medians over rounds; each round runs a fixed number of operations.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import statistics
import time
from collections.abc import Callable

from nacl.bindings import crypto_sign, crypto_sign_open

from reseau_poles.protocol import signing
from reseau_poles.protocol.keys import SigningKeyPair


def make_body(size: int) -> bytes:
    """A search-like JSON body padded to `size` bytes."""
    base = {
        "context": {"domain": "PLA:ALIMENTS", "action": "search", "version": "1.1.0"},
        "message": {"intent": {"item": {"descriptor": {"name": "sirop d'érable"}}}},
    }
    raw = json.dumps(base, separators=(",", ":"), ensure_ascii=False).encode()
    pad = size - len(raw) - len(',"pad":""')
    base["pad"] = "x" * max(pad, 0)
    body = json.dumps(base, separators=(",", ":"), ensure_ascii=False).encode()
    return body[:size] if len(body) > size else body


def rate(operation: Callable[[], object], iterations: int, rounds: int) -> float:
    """Median operations per second over `rounds` rounds."""
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(iterations):
            operation()
        samples.append(iterations / (time.perf_counter() - start))
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()

    key = SigningKeyPair.from_seed(bytes(range(32)))
    secret, public = key.secret_key, key.public_key
    signer = signing.Signer("bench.example", "k1", key)
    created, expires = int(time.time()), int(time.time()) + 30

    print(f"{'corps':>8} {'opération':>10} {'floor /s':>12} {'library /s':>12} {'surcoût':>8}")
    worst = 0.0
    for size, iterations in ((1024, 2000), (100 * 1024, 300)):
        body = make_body(size)

        def floor_sign(body: bytes = body) -> bytes:
            d = base64.b64encode(hashlib.blake2b(body, digest_size=64).digest()).decode()
            text = f"(created): {created}\n(expires): {expires}\ndigest: BLAKE-512={d}"
            return base64.b64encode(crypto_sign(text.encode(), secret)[:64])

        header = signer.sign(body, created=created, expires=expires)
        raw_signature = base64.b64decode(signing.parse_header(header).signature)

        def floor_verify(body: bytes = body, raw_signature: bytes = raw_signature) -> bytes:
            d = base64.b64encode(hashlib.blake2b(body, digest_size=64).digest()).decode()
            text = f"(created): {created}\n(expires): {expires}\ndigest: BLAKE-512={d}"
            return crypto_sign_open(raw_signature + text.encode(), public)

        def library_sign(body: bytes = body) -> str:
            return signer.sign(body, created=created, expires=expires)

        def library_verify(body: bytes = body, header: str = header) -> object:
            return signing.verify(body, header, public)

        for name, floor_op, library_op in (
            ("sign", floor_sign, library_sign),
            ("verify", floor_verify, library_verify),
        ):
            rate(floor_op, iterations // 4, 1)  # warm up
            # Interleave the two measurements so machine noise hits both alike.
            floors, libs = [], []
            for _ in range(args.rounds):
                floors.append(rate(floor_op, iterations, 1))
                libs.append(rate(library_op, iterations, 1))
            floor, library = statistics.median(floors), statistics.median(libs)
            overhead = floor / library - 1
            worst = max(worst, overhead)
            print(
                f"{size // 1024:>6} KB {name:>10} {floor:>12,.0f} {library:>12,.0f} "
                f"{overhead:>7.1%}"
            )
    verdict = "OK" if worst < 0.20 else "AU-DESSUS DE LA CIBLE"
    print(
        f"surcoût maximal de la bibliothèque sur le plancher : {worst:.1%} (cible < 20 %) {verdict}"
    )


if __name__ == "__main__":
    main()

"""A stand-alone ``/on_subscribe`` in ONDC's scheme, written only from the contract
(registry/README.md, "Le contrat /on_subscribe"): the standard library's HTTP server and the
``cryptography`` package, nothing of reseau_poles — as a vendor's stack would be.

    python ondc_answerer.py --check EXAMPLE.json
    python ondc_answerer.py --port PORT --private-key PKCS8_B64 --registry-key SPKI_B64

``--check`` opens the worked example's ONDC challenge and exits 0 when the answer matches.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.hazmat.primitives import padding, serialization
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes


def decrypt(private_key_der_b64: str, registry_key_der_b64: str, challenge_b64: str) -> str:
    private_key = serialization.load_der_private_key(
        base64.b64decode(private_key_der_b64), password=None
    )
    public_key = serialization.load_der_public_key(base64.b64decode(registry_key_der_b64))
    shared_key = private_key.exchange(public_key)  # type: ignore[union-attr,arg-type]
    decryptor = Cipher(algorithms.AES(shared_key), modes.ECB()).decryptor()
    padded = decryptor.update(base64.b64decode(challenge_b64)) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    return (unpadder.update(padded) + unpadder.finalize()).decode("utf-8")


def serve(port: int, private_key: str, registry_key: str) -> None:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            try:
                body = json.loads(self.rfile.read(length))
                answer = decrypt(private_key, registry_key, body["challenge"])
                status, payload = 200, {"answer": answer}
            except Exception as exc:  # any failure: an error, the registry refuses
                status, payload = 400, {"error": type(exc).__name__}
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    print("ready", flush=True)
    server.serve_forever()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--check")
    parser.add_argument("--port", type=int)
    parser.add_argument("--private-key")
    parser.add_argument("--registry-key")
    args = parser.parse_args()
    if args.check:
        with open(args.check, encoding="utf-8") as handle:
            example = json.load(handle)
        answer = decrypt(
            example["participant"]["encryption_private_key_pkcs8_der"],
            example["registry"]["encr_public_key_spki_der"],
            example["ondc"]["request"]["challenge"],
        )
        return 0 if answer == example["ondc"]["answer"]["answer"] else 1
    serve(args.port, args.private_key, args.registry_key)
    return 0


if __name__ == "__main__":
    sys.exit(main())

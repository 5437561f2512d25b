"""The ``/on_subscribe`` contract as documented: the worked example (README and JSON file) is
what the code makes, opens with code that knows only the contract, and a stand-alone answerer
written from it subscribes to a registry in ONDC mode."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import jsonschema
import pytest
from cryptography.hazmat.primitives import padding, serialization
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from nacl.bindings import crypto_box_seal_open

from reseau_poles.protocol.keys import SubscriberKeys
from reseau_poles.registry import contract
from tests.conftest import free_port
from tests.registry.conftest import RunningRegistry, new_keys

ROOT = Path(__file__).resolve().parents[2]
REGISTRY_DIR = ROOT / "registry"
README = REGISTRY_DIR / "README.md"
ANSWERER = Path(__file__).with_name("ondc_answerer.py")
REGENERATE = "python -m reseau_poles.registry.contract --out registry"


def _example_file() -> dict:
    return json.loads((REGISTRY_DIR / contract.EXAMPLE_FILE).read_text("utf-8"))


def _readme_example() -> dict:
    text = README.read_text("utf-8")
    found = re.search(
        r"<!-- exemple on_subscribe : début -->\s*```json\n(.*?)\n```\s*"
        r"<!-- exemple on_subscribe : fin -->",
        text,
        re.S,
    )
    assert found, "registry/README.md n'a plus l'exemple du contrat /on_subscribe entre ses marques"
    return json.loads(found.group(1))


def test_the_contract_files_are_what_the_code_makes() -> None:
    example = contract.build_example()
    for name, data in (
        (contract.EXAMPLE_FILE, example),
        (contract.OPENAPI_FILE, contract.build_openapi(example)),
    ):
        committed = (REGISTRY_DIR / name).read_text("utf-8")
        assert committed == contract.render(data), f"registry/{name} a changé : {REGENERATE}"


def test_the_readme_carries_the_committed_example() -> None:
    assert _readme_example() == _example_file(), f"exemple du README périmé : {REGENERATE}"


@pytest.mark.parametrize("source", ["readme", "file"])
def test_the_worked_example_opens_with_code_that_knows_only_the_contract(source: str) -> None:
    ex = _readme_example() if source == "readme" else _example_file()
    expected = ex["challenge_plaintext"]
    participant, registry = ex["participant"], ex["registry"]

    # sealed_box: libsodium's crypto_box_seal_open with the raw X25519 pair.
    secret = base64.b64decode(participant["encryption_private_key"])
    public = base64.b64decode(participant["encr_public_key"])
    sealed = base64.b64decode(ex["sealed_box"]["request"]["challenge"])
    assert crypto_box_seal_open(sealed, public, secret).decode() == expected
    assert sealed[:32] == base64.b64decode(ex["sealed_box"]["ephemeral_public_key"])
    assert ex["sealed_box"]["answer"] == {"answer": expected}

    # ondc: X25519 of the DER forms (as ONDC's tools load them), AES-256-ECB, PKCS#7.
    private_key = serialization.load_der_private_key(
        base64.b64decode(participant["encryption_private_key_pkcs8_der"]), password=None
    )
    registry_key = serialization.load_der_public_key(
        base64.b64decode(registry["encr_public_key_spki_der"])
    )
    shared = private_key.exchange(registry_key)  # type: ignore[union-attr,arg-type]
    assert base64.b64encode(shared).decode() == ex["ondc"]["shared_key"]
    decryptor = Cipher(algorithms.AES(shared), modes.ECB()).decryptor()
    padded = decryptor.update(base64.b64decode(ex["ondc"]["request"]["challenge"]))
    unpadder = padding.PKCS7(128).unpadder()
    plain = unpadder.update(padded + decryptor.finalize()) + unpadder.finalize()
    assert plain.decode() == expected
    assert ex["ondc"]["answer"] == {"answer": expected}
    # The raw and DER forms are the same keys.
    assert base64.b64decode(participant["encr_public_key_spki_der"])[-32:] == public
    assert base64.b64decode(registry["encr_public_key_spki_der"])[-32:] == base64.b64decode(
        registry["encr_public_key"]
    )


def test_the_openapi_piece_validates_the_example_and_refuses_what_breaks_the_contract() -> None:
    document = json.loads((REGISTRY_DIR / contract.OPENAPI_FILE).read_text("utf-8"))
    schemas = document["components"]["schemas"]
    request = jsonschema.Draft202012Validator(schemas["OnSubscribeRequest"])
    answer = jsonschema.Draft202012Validator(schemas["OnSubscribeAnswer"])
    ex = _example_file()
    for scheme in ("sealed_box", "ondc"):
        request.validate(ex[scheme]["request"])
        answer.validate(ex[scheme]["answer"])
    assert not request.is_valid({"challenge": "abcd"})  # no subscriber_id
    assert not request.is_valid({"subscriber_id": "x", "challenge": 12})
    assert not answer.is_valid({"reponse": "…"})
    operation = document["paths"]["/on_subscribe"]["post"]
    examples = operation["requestBody"]["content"]["application/json"]["examples"]
    assert examples["ondc"]["value"] == ex["ondc"]["request"]


# --- a stand-alone ONDC answerer, from the contract alone -----------------------------------------


def test_the_standalone_answerer_opens_the_worked_example() -> None:
    done = subprocess.run(
        [sys.executable, str(ANSWERER), "--check", str(REGISTRY_DIR / contract.EXAMPLE_FILE)],
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr.decode()


@pytest.fixture
def start_answerer() -> Iterator[Callable[[SubscriberKeys, str], str]]:
    started: list[subprocess.Popen[bytes]] = []

    def start(keys: SubscriberKeys, registry_key_der: str) -> str:
        port = free_port()
        process = subprocess.Popen(
            [
                sys.executable,
                str(ANSWERER),
                "--port",
                str(port),
                "--private-key",
                keys.encryption.private_key_der_b64,
                "--registry-key",
                registry_key_der,
            ],
            stdout=subprocess.PIPE,
        )
        started.append(process)
        assert process.stdout is not None
        assert process.stdout.readline().strip() == b"ready"
        return f"http://127.0.0.1:{port}/pile"

    yield start
    for process in started:
        process.terminate()
        process.wait(timeout=10)


def test_a_registry_in_ondc_mode_subscribes_a_standalone_ondc_answerer(
    registry_factory: Callable[..., RunningRegistry],
    start_answerer: Callable[[SubscriberKeys, str], str],
) -> None:
    registry = registry_factory(challenge_scheme="ondc")
    published = registry.http.get("/.well-known/reseau-poles/registry.json").json()
    assert published["challenge_scheme"] == "ondc"
    assert published["encr_public_key_der"].startswith("MCowBQYDK2VuAyEA")
    keys = new_keys("pile-ondc")
    url = start_answerer(keys, published["encr_public_key_der"])
    participant = registry.host.add(keys)
    # The vendor registers the DER form of its key, as ONDC's tools show it.
    response = registry.subscribe(
        participant, url=url, encr_public_key=keys.encryption.public_key_der_b64
    )
    assert response.status_code == 200, response.text
    assert response.json()["subscriber"]["status"] == "SUBSCRIBED"
    assert registry.lookup({"subscriber_id": keys.subscriber_id}).json()[0]["url"] == url


def test_the_subscribe_chooses_the_scheme_over_the_network_default(
    registry_factory: Callable[..., RunningRegistry],
    start_answerer: Callable[[SubscriberKeys, str], str],
) -> None:
    registry = registry_factory()  # sealed_box by default
    published = registry.http.get("/.well-known/reseau-poles/registry.json").json()
    assert published["challenge_scheme"] == "sealed_box"
    keys = new_keys("pile-ondc")
    url = start_answerer(keys, published["encr_public_key_der"])
    participant = registry.host.add(keys)

    # The network's sealed box: the ONDC-only answerer cannot open it (the uniform refusal).
    refused = registry.subscribe(participant, url=url)
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"]["code"] == "15003"
    # The subscribe asks for ondc (a signed field of its body): met.
    accepted = registry.subscribe(participant, url=url, challenge_scheme="ondc")
    assert accepted.status_code == 200, accepted.text
    # Anything else: 400 naming the field.
    bad = registry.subscribe(participant, url=url, challenge_scheme="aes")
    assert bad.status_code == 400, bad.text
    assert bad.json()["error"]["code"] == "15000"
    assert bad.json()["error"]["paths"] == "challenge_scheme"


def test_scheme_and_retries_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from reseau_poles.registry.settings import load_settings

    monkeypatch.setenv("RESEAU_POLES_CHALLENGE_SCHEME", "ondc")
    monkeypatch.setenv("RESEAU_POLES_CHALLENGE_RETRIES", "1")
    monkeypatch.setenv("RESEAU_POLES_CHALLENGE_RETRY_DELAY_SECONDS", "0.5")
    monkeypatch.setenv("RESEAU_POLES_CHALLENGE_TIMEOUT_SECONDS", "40")
    settings = load_settings(None)
    assert settings.challenge_scheme == "ondc"
    assert (settings.challenge_retries, settings.challenge_retry_delay_seconds) == (1, 0.5)
    assert settings.challenge_timeout_seconds == 40
    monkeypatch.setenv("RESEAU_POLES_CHALLENGE_SCHEME", "rot13")
    with pytest.raises(ValueError, match="challenge_scheme"):
        load_settings(None)


def test_the_registry_keeps_its_encryption_key_private_beside_its_signing_key(
    registry: RunningRegistry,
) -> None:
    folder = Path(registry.settings.key_dir)
    for name in ("signing_private_key", "encryption_private_key"):
        assert (folder / name).stat().st_mode & 0o777 == 0o600, name
    published = registry.http.get("/.well-known/reseau-poles/registry.json").json()
    assert published["encr_public_key"] == registry.service.identity.encryption.public_key_b64

"""BECKN-006 signatures: the published vector, header round trips, tampering, refusals."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reseau_poles.protocol import signing
from reseau_poles.protocol.errors import ErrorCode, SignatureError
from reseau_poles.protocol.keys import SigningKeyPair

# The example flow of BECKN-006 ("Signing Beckn APIs in HTTP"), step 1.
VECTOR_BODY = (
    b'{"context":{"domain":"nic2004:60212","country":"IND","city":"Kochi","action":"search",'
    b'"core_version":"0.9.1","bap_id":"bap.stayhalo.in","bap_uri":'
    b'"https://8f9f-49-207-209-131.ngrok.io/protocol/","transaction_id":'
    b'"e6d9f908-1d26-4ff3-a6d1-3af3d3721054","message_id":"a2fe6d52-9fe4-4d1a-9d0b-dccb8b48522d",'
    b'"timestamp":"2022-01-04T09:17:55.971Z","ttl":"P1M"},"message":{"intent":{"fulfillment":'
    b'{"start":{"location":{"gps":"10.108768, 76.347517"}},"end":{"location":'
    b'{"gps":"10.102997, 76.353480"}}}}}}'
)
VECTOR_PUBLIC = "awGPjRK6i/Vg/lWr+0xObclVxlwZXvTjWYtlu6NeOHk="
VECTOR_PRIVATE = (
    "lP3sHA+9gileOkXYJXh4Jg8tK0gEEMbf9yCPnFpbldhrAY+NErqL9WD+Vav7TE5tyVXGXBle9ONZi2W7o144eQ=="
)
VECTOR_CREATED, VECTOR_EXPIRES = 1641287875, 1641291475
VECTOR_DIGEST = (
    "b6lf6lRgOweajukcvcLsagQ2T60+85kRh/Rd2bdS+TG/5ALebOEgDJfyCrre/1+BMu5nA94o4DT3pTFXuUg7sw=="
)
VECTOR_SIGNATURE = (
    "cjbhP0PFyrlSCNszJM1F/YmHDVAWsZqJUPzojnE/7TJU3fJ/rmIlgaUHEr5E0/2PIyf0tpSnWtT6cyNNlpmoAQ=="
)
VECTOR_HEADER = (
    'Signature keyId="example-bap.com|ae3ea24b-cfec-495e-81f8-044aaef164ac|ed25519",'
    'algorithm="ed25519",created="1641287875",expires="1641291475",'
    'headers="(created) (expires) digest",'
    f'signature="{VECTOR_SIGNATURE}"'
)
VECTOR_NOW = VECTOR_CREATED + 60


def vector_signer() -> signing.Signer:
    key = SigningKeyPair.from_private(VECTOR_PRIVATE)
    return signing.Signer("example-bap.com", "ae3ea24b-cfec-495e-81f8-044aaef164ac", key)


def test_blake2b_example_of_the_spec():
    quick = b"The quick brown fox jumps over the lazy dog"
    assert hashlib.blake2b(quick).hexdigest().startswith("a8add4bdddfd93e4877d2746e62817b1")
    assert signing.digest(quick) == (
        "qK3Uvd39k+SHfSdG5igXsRY2Sh+nvBSNlQkLxzM7NnP4JAHPeqLkyx7NkCluPxTLVBP47Xe+cwRbE5FM3NapGA=="
    )


def test_beckn_006_vector_is_reproduced_exactly():
    assert SigningKeyPair.from_private(VECTOR_PRIVATE).public_key_b64 == VECTOR_PUBLIC
    assert signing.digest(VECTOR_BODY) == VECTOR_DIGEST
    assert signing.signing_string(VECTOR_CREATED, VECTOR_EXPIRES, VECTOR_DIGEST) == (
        f"(created): 1641287875\n(expires): 1641291475\ndigest: BLAKE-512={VECTOR_DIGEST}"
    )
    header = vector_signer().sign(VECTOR_BODY, created=VECTOR_CREATED, expires=VECTOR_EXPIRES)
    assert header == VECTOR_HEADER
    parsed = signing.verify(VECTOR_BODY, VECTOR_HEADER, VECTOR_PUBLIC, now=VECTOR_NOW)
    assert parsed.signature == VECTOR_SIGNATURE
    assert parsed.subscriber_id == "example-bap.com"


def test_gateway_header_of_the_spec_parses_with_spaces():
    # BECKN-006 writes the gateway header with a space after each comma.
    text = (
        'Signature keyId="example-bg.com|dfb974ea-9113-4089-9a2d-77552b50624e|ed25519", '
        'algorithm="ed25519", created="1641287885", expires="1641291485", '
        'headers="(created) (expires) digest", signature="AAAA"'
    )
    parsed = signing.parse_header(text, header_name=signing.GATEWAY_AUTHORIZATION)
    assert (parsed.subscriber_id, parsed.key_id) == (
        "example-bg.com",
        "dfb974ea-9113-4089-9a2d-77552b50624e",
    )
    assert (parsed.created, parsed.expires) == (1641287885, 1641291485)


# --- header build / parse round trips ---------------------------------------------------------

ids = st.text(
    alphabet=st.characters(min_codepoint=33, max_codepoint=126, exclude_characters='|"\\,'),
    min_size=1,
    max_size=40,
)
timestamps = st.integers(min_value=0, max_value=10**11)
signatures = st.binary(min_size=64, max_size=64).map(lambda b: base64.b64encode(b).decode())
spaces = st.text(alphabet=" \t", max_size=3)


@given(ids, ids, timestamps, timestamps, signatures)
def test_build_then_parse_gives_back_every_field(subscriber, key_id, created, expires, sig):
    text = signing.build_header(subscriber, key_id, sig, created=created, expires=expires)
    parsed = signing.parse_header(text)
    assert (parsed.subscriber_id, parsed.key_id, parsed.key_algorithm) == (
        subscriber,
        key_id,
        "ed25519",
    )
    assert (parsed.created, parsed.expires, parsed.signature) == (created, expires, sig)
    assert parsed.headers == signing.SIGNED_HEADERS
    assert parsed.to_header() == text


@given(
    ids,
    ids,
    timestamps,
    timestamps,
    signatures,
    st.permutations(range(6)),
    st.lists(spaces, min_size=14, max_size=14),
)
def test_parameters_in_any_order_with_any_spacing(
    subscriber, key_id, created, expires, sig, order, pads
):
    params = [
        f'keyId="{subscriber}|{key_id}|ed25519"',
        'algorithm="ed25519"',
        f'created="{created}"',
        f'expires="{expires}"',
        'headers="(created) (expires) digest"',
        f'signature="{sig}"',
    ]
    shuffled = [params[i] for i in order]
    text = "Signature " + ",".join(pads[i] + p + pads[i + 7] for i, p in enumerate(shuffled))
    parsed = signing.parse_header(text)
    assert parsed == signing.parse_header(
        signing.build_header(subscriber, key_id, sig, created=created, expires=expires)
    )


@settings(max_examples=300)
@given(st.one_of(st.text(max_size=300), st.binary(max_size=300), st.none()))
def test_parse_never_raises_anything_but_signature_error(text):
    try:
        signing.parse_header(text)
    except SignatureError as exc:
        assert exc.reason in {"missing", "malformed"}
        assert exc.path == "headers.Authorization"


@pytest.mark.parametrize(
    "text, detail",
    [
        ("", "absent"),
        ("Bearer abc", "schéma"),
        ('Signature keyId="a|b|ed25519"', "manquant"),
        ('Signature keyId="a|b|ed25519",keyId="a|b|ed25519"', "répété"),
        (VECTOR_HEADER.replace('created="1641287875"', 'created="hier"'), "created"),
        (VECTOR_HEADER.replace("|ae3ea24b-cfec-495e-81f8-044aaef164ac|", "|"), "keyId"),
        (VECTOR_HEADER + " trailing", "virgule"),
        (VECTOR_HEADER.replace('algorithm="ed25519",', 'algorithm="ed25519" '), "virgule"),
        ("Signature " + "a" * 5000, "4096"),
    ],
)
def test_malformed_headers_get_a_clear_message(text, detail):
    with pytest.raises(SignatureError) as caught:
        signing.parse_header(text)
    assert detail in caught.value.message
    assert caught.value.code is ErrorCode.INVALID_SIGNATURE


# ONDC's Python reference helper wraps the whole value in one more pair of double quotes.
@given(
    ids,
    ids,
    timestamps,
    timestamps,
    signatures,
    st.permutations(range(6)),
    st.lists(spaces, min_size=14, max_size=14),
)
def test_the_ondc_quoted_form_parses_to_the_same_header(
    subscriber, key_id, created, expires, sig, order, pads
):
    params = [
        f'keyId="{subscriber}|{key_id}|ed25519"',
        'algorithm="ed25519"',
        f'created="{created}"',
        f'expires="{expires}"',
        'headers="(created) (expires) digest"',
        f'signature="{sig}"',
    ]
    canonical = signing.build_header(subscriber, key_id, sig, created=created, expires=expires)
    spaced = "Signature " + ",".join(
        pads[i] + params[j] + pads[i + 7] for i, j in enumerate(order)
    ).rstrip(" \t")
    for text in (canonical, spaced):
        expected = signing.parse_header(text)
        assert signing.parse_header(f'"{text}"') == expected
        assert signing.parse_header(f'  "{text}"\t') == expected  # the header's own spaces
        assert signing.parse_header(f'"{text}"'.encode()) == expected
        assert signing.unquote_header(f'"{text}"') == (text, True)
        assert signing.unquote_header(text) == (text, False)


WRAPPINGS = {
    "single quotes": "'{}'",
    "two pairs": '""{}""',
    "opening quote only": '"{}',
    "closing quote only": '{}"',
    "space inside the opening quote": '" {}"',
    "space inside the closing quote": '"{} "',
    "quote pair around the parameters only": 'Signature "{}"',
    "backquotes": "`{}`",
    "typographic quotes": "\u201c{}\u201d",
}


@given(ids, ids, timestamps, timestamps, signatures, st.sampled_from(sorted(WRAPPINGS)))
def test_any_other_wrapping_is_refused_as_malformed(
    subscriber, key_id, created, expires, sig, wrapping
):
    text = signing.build_header(subscriber, key_id, sig, created=created, expires=expires)
    if wrapping == "quote pair around the parameters only":
        text = text.removeprefix("Signature ")
    with pytest.raises(SignatureError) as caught:
        signing.parse_header(WRAPPINGS[wrapping].format(text))
    assert caught.value.reason == "malformed"
    assert caught.value.path == "headers.Authorization"


def test_a_quoted_header_still_verifies(key):
    body = b'{"context":{"action":"search"},"message":{}}'
    header = signed(key, body)
    parsed = signing.verify(body, f'"{header}"', key.public_key_b64, now=1_000_001)
    assert parsed == signing.parse_header(header)
    assert signing.diagnose(body, f'"{header}"', key.public_key_b64, now=1_000_001).valid


def test_unquoted_numbers_are_accepted_as_cavage_allows():
    text = VECTOR_HEADER.replace('created="1641287875"', "created=1641287875")
    assert signing.parse_header(text).created == VECTOR_CREATED


# --- verification ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def key() -> SigningKeyPair:
    return SigningKeyPair.generate()


def signed(key: SigningKeyPair, body: bytes, created: int = 1_000_000, expires: int = 1_000_030):
    signer = signing.Signer("bap.example", "k1", key)
    return signer.sign(body, created=created, expires=expires)


def reason(body, header, public_key, **kwargs) -> str:
    with pytest.raises(SignatureError) as caught:
        signing.verify(body, header, public_key, **kwargs)
    assert caught.value.http_status == 401
    return caught.value.reason


@settings(max_examples=60, deadline=None)
@given(st.binary(min_size=1, max_size=2048), st.data())
def test_any_single_byte_changed_in_the_body_is_detected(body, data):
    key = SigningKeyPair.from_seed(bytes(range(32)))
    header = signed(key, body)
    index = data.draw(st.integers(0, len(body) - 1))
    flip = data.draw(st.integers(1, 255))
    tampered = bytearray(body)
    tampered[index] ^= flip
    assert signing.verify(body, header, key.public_key, now=1_000_010)
    assert reason(bytes(tampered), header, key.public_key, now=1_000_010) == "signature_mismatch"


@settings(max_examples=40, deadline=None)
@given(st.integers(-20, 20).filter(bool), st.sampled_from(["created", "expires"]))
def test_tampered_created_or_expires_is_detected(shift, field):
    key = SigningKeyPair.from_seed(bytes(range(32)))
    header = signed(key, b"{}", created=1_000_000, expires=1_000_100)
    original = 1_000_000 if field == "created" else 1_000_100
    tampered = header.replace(f'{field}="{original}"', f'{field}="{original + shift}"')
    assert reason(b"{}", tampered, key.public_key, now=1_000_050) == "signature_mismatch"


def test_time_window_with_skew(key):
    header = signed(key, b"x", created=1000, expires=1030)
    signing.verify(b"x", header, key.public_key, now=1000 - 5)  # created within skew
    signing.verify(b"x", header, key.public_key, now=1030 + 5)  # expires within skew
    assert reason(b"x", header, key.public_key, now=1000 - 6) == "created_in_future"
    assert reason(b"x", header, key.public_key, now=1030 + 6) == "expired"
    assert reason(b"x", header, key.public_key, now=1030 + 60, skew=30) == "expired"
    signing.verify(b"x", header, key.public_key, now=1030 + 25, skew=30)


def test_long_windows_of_other_tools_are_accepted(key):
    # created a minute in the past, expires an hour ahead.
    header = signed(key, b"x", created=10_000 - 60, expires=10_000 + 3600)
    signing.verify(b"x", header, key.public_key, now=10_000)


def test_expires_before_created_is_refused(key):
    header = signed(key, b"x", created=2000, expires=1000)
    assert reason(b"x", header, key.public_key, now=1500) == "invalid_window"


def test_keyid_naming_another_algorithm_is_refused(key):
    header = signed(key, b"x").replace("|ed25519", "|rsa-sha256")
    assert reason(b"x", header, key.public_key, now=1_000_001) == "algorithm_mismatch"
    both = header.replace('algorithm="ed25519"', 'algorithm="rsa-sha256"')
    assert reason(b"x", both, key.public_key, now=1_000_001) == "unsupported_algorithm"


def test_keyid_naming_another_key_or_subscriber_is_refused(key):
    header = signed(key, b"x")
    assert (
        reason(b"x", header, key.public_key, now=1_000_001, expected_key_id="k2")
        == "key_id_mismatch"
    )
    assert (
        reason(b"x", header, key.public_key, now=1_000_001, expected_subscriber_id="autre.example")
        == "subscriber_mismatch"
    )
    # The header claims bap.example's key but the signature was made by another key.
    other = SigningKeyPair.generate()
    assert reason(b"x", signed(other, b"x"), key.public_key, now=1_000_001) == "signature_mismatch"


def test_other_signed_headers_are_refused(key):
    header = signed(key, b"x").replace(
        'headers="(created) (expires) digest"', 'headers="(request-target) digest"'
    )
    assert reason(b"x", header, key.public_key, now=1_000_001) == "unsupported_headers"


def test_key_validity_at_created(key):
    header = signed(key, b"x", created=5000, expires=5030)
    ok = signing.KeyValidity(valid_from=4000, valid_until=6000)
    signing.verify(b"x", header, key.public_key, now=5001, key_validity=ok)
    late = signing.KeyValidity(valid_from=5100, valid_until=None)
    early = signing.KeyValidity(valid_from=None, valid_until=4900)
    assert reason(b"x", header, key.public_key, now=5001, key_validity=late) == "key_not_yet_valid"
    assert reason(b"x", header, key.public_key, now=5001, key_validity=early) == "key_expired"


def test_signature_that_is_not_64_bytes_of_base64(key):
    header = signed(key, b"x")
    parsed = signing.parse_header(header)
    short = header.replace(parsed.signature, base64.b64encode(b"short").decode())
    assert reason(b"x", short, key.public_key, now=1_000_001) == "malformed"
    garbage = header.replace(parsed.signature, "###")
    assert reason(b"x", garbage, key.public_key, now=1_000_001) == "malformed"


def test_error_code_follows_the_refusing_role(key):
    with pytest.raises(SignatureError) as caught:
        signing.verify(
            b"y",
            signed(key, b"x"),
            key.public_key,
            now=1_000_001,
            header_name=signing.GATEWAY_AUTHORIZATION,
            invalid_code=ErrorCode.GATEWAY_INVALID_SIGNATURE,
        )
    assert caught.value.to_error()["code"] == "10001"
    assert caught.value.to_error()["paths"] == "headers.X-Gateway-Authorization"
    assert caught.value.to_nack()["message"]["ack"]["status"] == "NACK"


# --- diagnosis ------------------------------------------------------------------------------


def test_diagnose_tells_a_reserialised_body_from_a_wrong_key(key):
    sent = json.dumps({"context": {"action": "search"}, "message": {}}, indent=2).encode()
    compact = json.dumps(json.loads(sent), separators=(",", ":")).encode()
    header = signed(key, compact)  # the sender signed compact JSON but sent it indented
    found = signing.diagnose(sent, header, key.public_key_b64, now=1_000_001)
    assert (found.valid, found.reason) == (False, "digest_mismatch")
    assert "JSON compact" in found.message
    wrong_key = signing.diagnose(
        compact, header, SigningKeyPair.generate().public_key, now=1_000_001
    )
    assert wrong_key.reason == "signature_mismatch"
    assert any("BLAKE-512=" in hint for hint in wrong_key.hints)
    assert signing.diagnose(compact, header, key.public_key, now=1_000_001).valid


def test_diagnose_carries_the_evidence_whatever_the_verdict(key):
    body = b'{"context":{"action":"search"},"message":{}}'
    header = signed(key, body)
    for now, verdict in ((1_000_001, "valid"), (2_000_000, "expired")):
        found = signing.diagnose(body, header, key.public_key_b64, now=now)
        assert found.reason == verdict
        assert found.header == signing.parse_header(header) and not found.unquoted
        assert found.body_digest == signing.digest(body) and found.body_length == len(body)
        assert found.public_key == key.public_key_b64 and found.now == now
        assert found.signing_string == signing.signing_string(
            1_000_000, 1_000_030, signing.digest(body)
        )
        assert f"invalid : {verdict}" in "\n".join(signing.explain(found)) or verdict == "valid"
    unreadable = signing.diagnose(body, '"Signature', key.public_key, now=1_000_001)
    assert unreadable.header is None and unreadable.signing_string is None
    assert unreadable.reason == "malformed"

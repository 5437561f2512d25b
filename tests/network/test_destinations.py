"""The webhook destination policy on its own: URLs a tenant could use to aim the node at itself,
its private network or the cloud metadata service are refused in every spelling (decimal,
octal and hex IPv4, mapped IPv6, zones, trailing dots, capitals, user information), public
https URLs pass; addresses are classified like the RFC registries say; the lenient IPv4
reader agrees with the C library's ``inet_aton``; resolution refuses a name when any of its
addresses is forbidden (through the real system resolver for ``localhost``)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from reseau_poles.network.destinations import (
    FORBIDDEN,
    HTTP_REFUSED,
    INVALID_URL,
    MAX_URL_LENGTH,
    DestinationPolicy,
    DestinationRefused,
    address_refusal,
    parse_ipv4_number,
    pinned_request,
)

STRICT = DestinationPolicy()
HTTP = DestinationPolicy(allow_http=True)
ON_PREMISES = DestinationPolicy(allow_http=True, allow_private_networks=True)


def refusal(policy: DestinationPolicy, url: str) -> DestinationRefused:
    with pytest.raises(DestinationRefused) as caught:
        policy.check_url(url)
    assert caught.value.message and not caught.value.retryable
    return caught.value


FORBIDDEN_EVERYWHERE = [
    # loopback in every spelling
    "http://127.0.0.1/",
    "http://127.0.0.1:5432/",
    "http://127.255.255.254/x",
    "http://2130706433/",
    "http://0x7f000001/",
    "http://0x7f.1/",
    "http://0177.0.0.1/",
    "http://0177.1/",
    "http://127.1/",
    "http://127.0.1/",
    "http://127.000.000.001/",
    "http://127.0.0.1./",
    "http://[::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/",
    "http://[0:0:0:0:0:ffff:127.0.0.1]/",
    "http://localhost/",
    "http://LOCALHOST:8080/",
    "http://localhost./",
    "http://LocalHost.LocalDomain/",
    "http://api.localhost/",
    "http://good@127.0.0.1/",
    "http://good.example.com@127.0.0.1/",
    "http://127.0.0.1#@good.example.com/",
    "http://127.0.0.1?@good.example.com/",
    # private networks, CGNAT, unique-local
    "http://10.0.0.1/",
    "http://10.255.255.255:9200/",
    "http://172.16.0.1/",
    "http://172.31.255.254/",
    "http://192.168.1.1/",
    "http://0xc0.0xa8.1.1/",
    "http://3232235777/",
    "http://100.64.0.1/",
    "http://100.127.255.254/",
    "http://[fc00::1]/",
    "http://[fd12:3456:789a::1]/",
    "http://[::ffff:10.0.0.1]/",
    "http://[64:ff9b::a00:1]/",  # NAT64 of 10.0.0.1
    "http://[2002:c0a8:101::1]/",  # 6to4 of 192.168.1.1
    # names of the inside
    "http://postgres:5432/",
    "http://redis/",
    "http://imprimante.local/",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://routeur.home.arpa/",
]

FORBIDDEN_ALWAYS = [
    # link-local and the cloud metadata service
    "http://169.254.169.254/latest/meta-data/",
    "http://169.254.169.254:80/",
    "http://2852039166/",
    "http://0xa9.0xfe.0xa9.0xfe/",
    "http://0251.0376.0251.0376/",
    "http://[fe80::1]/",
    "http://[FE80::1%25eth0]/",
    "http://[fe80::1%eth0]/",
    "http://[::ffff:169.254.169.254]/",
    # unspecified, multicast, broadcast, reserved, documentation
    "http://0.0.0.0/",
    "http://0/",
    "http://0.1.2.3/",
    "http://[::]/",
    "http://224.0.0.1/",
    "http://239.255.255.250:1900/",
    "http://[ff02::1]/",
    "http://255.255.255.255/",
    "http://240.0.0.1/",
    "http://198.18.0.1/",
    "http://192.0.2.10/",
    "http://[2001:db8::1]/",
    "http://[::127.0.0.1]/",
]

INVALID = [
    "",
    "crochets.exemple.ca/evenements",
    "//crochets.exemple.ca/",
    "ftp://crochets.exemple.ca/",
    "file:///etc/passwd",
    "gopher://127.0.0.1:6379/_INFO",
    "javascript:alert(1)",
    "http:/crochets.exemple.ca/",
    "https:///evenements",
    "https://:443/",
    "https://crochets.exemple.ca:0/",
    "https://crochets.exemple.ca:65536/",
    "https://crochets.exemple.ca:+443/",
    "https://crochets.exemple.ca:/",
    "https://crochets.exemple.ca:443:443/",
    "https://user:pass@crochets.exemple.ca/",
    "https://@crochets.exemple.ca/",
    "https://crochets.exemple.ca\\@127.0.0.1/",
    "https://crochets .exemple.ca/",
    "https://crochets.exemple.ca/\tx",
    "https://crochets.exemple.ca/\nx",
    "https://crochets..exemple.ca/",
    "https://-crochets.exemple.ca/",
    "https://crochets.exemple.ca../",
    "https://crochets%2eexemple.ca/",
    "https://127.0.0.%31/",
    "https://1.2.3.4.5/",
    "https://256.1.1.1/",
    "https://08.1.1.1/",
    "https://exemple.999999999999/",
    "https://[::1/",
    "https://[::1]x/",
    "https://[nope]/",
    "https://[v1.fe]/",
    "https://::1/",
    "https://１２７．０．０．１/",
    "https://" + "a" * 64 + ".exemple.ca/",
    "https://" + ".".join(["abcdefghi"] * 26) + ".ca/",
    "https://crochets.exemple.ca/" + "x" * MAX_URL_LENGTH,
]

ACCEPTED = [
    ("https://crochets.exemple.ca/evenements", "crochets.exemple.ca", 443, "/evenements"),
    ("HTTPS://Crochets.Exemple.CA./a?b=1#frag", "crochets.exemple.ca", 443, "/a?b=1"),
    ("https://crochets.exemple.ca:8443", "crochets.exemple.ca", 8443, "/"),
    ("https://crochets.exemple.ca?x=1", "crochets.exemple.ca", 443, "/?x=1"),
    ("https://bücher.exemple.ca/", "xn--bcher-kva.exemple.ca", 443, "/"),
    ("https://8.8.8.8/hook", "8.8.8.8", 443, "/hook"),
    ("https://[2606:4700:4700::1111]:8443/", "2606:4700:4700::1111", 8443, "/"),
    ("https://[::ffff:8.8.8.8]/", "::ffff:808:808", 443, "/"),
    ("https://sous_domaine.exemple.ca/", "sous_domaine.exemple.ca", 443, "/"),
]


@pytest.mark.parametrize("url", FORBIDDEN_EVERYWHERE + FORBIDDEN_ALWAYS)
def test_inside_destinations_are_refused(url: str) -> None:
    assert refusal(HTTP, url).code in (FORBIDDEN, INVALID_URL)
    # the same destinations in https
    secure = url.replace("http://", "https://", 1)
    assert refusal(STRICT, secure).code in (FORBIDDEN, INVALID_URL)


@pytest.mark.parametrize("url", FORBIDDEN_EVERYWHERE)
def test_forbidden_urls_say_destination_interdite(url: str) -> None:
    if url.startswith(("http://good@", "http://good.example.com@")):
        assert refusal(HTTP, url).code == INVALID_URL  # user information: refused as such
    else:
        error = refusal(HTTP, url)
        assert error.code == FORBIDDEN, error.message


@pytest.mark.parametrize("url", FORBIDDEN_ALWAYS)
def test_link_local_multicast_and_reserved_stay_refused_on_premises(url: str) -> None:
    assert refusal(ON_PREMISES, url).code == FORBIDDEN


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/crochet",
        "http://[::1]:8080/",
        "http://10.1.2.3/",
        "http://192.168.0.10:9000/",
        "http://100.64.1.1/",
        "http://[fd00::5]/",
        "http://localhost:8080/",
        "http://erp/",
        "http://erp.local/",
    ],
)
def test_an_on_premises_node_allows_its_private_network(url: str) -> None:
    assert ON_PREMISES.check_url(url).port > 0
    assert refusal(HTTP, url).code == FORBIDDEN


@pytest.mark.parametrize("url", INVALID)
def test_malformed_urls_are_invalid(url: str) -> None:
    assert refusal(ON_PREMISES, url).code == INVALID_URL


@pytest.mark.parametrize(("url", "host", "port", "target"), ACCEPTED)
def test_public_https_urls_pass(url: str, host: str, port: int, target: str) -> None:
    checked = STRICT.check_url(url)
    assert (checked.scheme, checked.host, checked.port, checked.target) == (
        "https",
        host,
        port,
        target,
    )


def test_plain_http_needs_the_setting() -> None:
    error = refusal(STRICT, "http://crochets.exemple.ca/")
    assert error.code == HTTP_REFUSED and "https" in error.message
    assert HTTP.check_url("http://crochets.exemple.ca/").port == 80


def test_non_canonical_ipv4_is_refused_even_when_public() -> None:
    error = refusal(STRICT, "https://134744072/")  # 8.8.8.8
    assert error.code == FORBIDDEN and "8.8.8.8" in error.message
    assert "127.0.0.1" in refusal(HTTP, "http://0x7f.1/").message


def test_messages_name_the_reason() -> None:
    assert "métadonnées" in refusal(ON_PREMISES, "http://169.254.169.254/").message
    assert "bouclage" in refusal(HTTP, "http://[::ffff:127.0.0.1]/").message
    assert "RFC 1918" in refusal(HTTP, "http://10.0.0.1/").message
    assert "zone" in refusal(HTTP, "http://[fe80::1%25eth0]/").message
    assert "utilisateur" in refusal(HTTP, "http://good@127.0.0.1/").message


# --- under hypothesis ------------------------------------------------------------------------

octets = st.integers(0, 255)


def _spell(value: int, style: str) -> str:
    return {"dec": str(value), "hex": hex(value), "HEX": f"0X{value:X}", "oct": f"0{value:o}"}[
        style
    ]


styles = st.sampled_from(["dec", "hex", "HEX", "oct"])


@given(st.lists(octets, min_size=4, max_size=4), st.integers(1, 4), st.lists(styles, min_size=4))
def test_lenient_ipv4_reader_agrees_with_inet_aton(
    parts: list[int], count: int, spellings: list[str]
) -> None:
    value = int.from_bytes(bytes(parts), "big")
    # ``count`` parts: the leading bytes, then the rest as one number
    leading = parts[: count - 1]
    rest = value & ((1 << (8 * (5 - count))) - 1)
    numbers = [*leading, rest]
    host = ".".join(_spell(n, s) for n, s in zip(numbers, spellings, strict=False))
    meant = parse_ipv4_number(host)
    assert meant == ipaddress.IPv4Address(value)
    assert socket.inet_aton(host) == meant.packed
    # and a URL using it is refused unless it is the canonical dotted form of a public address
    url = f"https://{host}/"
    try:
        STRICT.check_url(url)
    except DestinationRefused:
        accepted = False
    else:
        accepted = True
    assert accepted == (host == str(meant) and address_refusal(meant) is None)


@given(st.text(alphabet="0123456789xXabcdef.", max_size=24))
def test_lenient_ipv4_reader_never_invents_an_address(host: str) -> None:
    try:
        packed: bytes | None = socket.inet_aton(host)
    except OSError:
        packed = None
    meant = parse_ipv4_number(host)
    if packed is not None:  # whatever the C library reads as an address, we read the same
        assert meant is not None and meant.packed == packed
    elif meant is not None:  # more lenient only where browsers are: "0x" alone, a final dot
        parts = host.split(".")
        assert host.endswith(".") or any(part.lower() == "0x" for part in parts)


@given(st.ip_addresses(v=4))
def test_every_loopback_private_or_local_ipv4_is_refused(address: ipaddress.IPv4Address) -> None:
    inside = address.is_multicast or not address.is_global  # 100.64/10 is not global either
    assert (address_refusal(address) is not None) == inside

    def refused(url: str) -> bool:
        try:
            STRICT.check_url(url)
        except DestinationRefused:
            return True
        return False

    assert refused(f"https://{address}/") == inside
    assert refused(f"https://[::ffff:{address}]/") == inside
    assert refused(f"https://{int(address)}/")  # one number: never the canonical form


@given(st.ip_addresses(v=6))
def test_ipv6_literals_follow_the_same_classes(address: ipaddress.IPv6Address) -> None:
    refused = address_refusal(address) is not None
    if address.is_loopback or address.is_link_local or address in ipaddress.IPv6Network("fc00::/7"):
        assert refused
    try:
        STRICT.check_url(f"https://[{address}]/")
    except DestinationRefused as exc:
        assert refused and exc.code == FORBIDDEN
    else:
        assert not refused


labels = st.from_regex(r"[a-z][a-z0-9-]{0,10}[a-z0-9]", fullmatch=True)


@given(
    st.lists(labels, min_size=2, max_size=4),
    st.booleans(),
    st.booleans(),
    st.sampled_from(["", ":8443"]),
)
def test_names_pass_whatever_their_case_and_trailing_dot(
    parts: list[str], upper: bool, dot: bool, port: str
) -> None:
    name = ".".join(parts)
    assume(not any(name.endswith(s) for s in ("localhost", ".local", ".internal", "localdomain")))
    assume(not name.endswith(".home.arpa"))
    spelled = (name.upper() if upper else name) + ("." if dot else "")
    checked = STRICT.check_url(f"https://{spelled}{port}/crochet")
    assert checked.host == name and checked.address is None
    # a user-information prefix never passes, whatever follows
    assert refusal(STRICT, f"https://{name}@{spelled}/").code == INVALID_URL


@given(st.text(max_size=80))
def test_any_text_is_refused_cleanly_or_read(url: str) -> None:
    try:
        checked = STRICT.check_url(url)
    except DestinationRefused as exc:
        assert exc.code in (INVALID_URL, FORBIDDEN, HTTP_REFUSED) and exc.message
    else:
        assert checked.scheme == "https" and checked.host and checked.target.startswith("/")


# --- resolution and pinning ------------------------------------------------------------------


def _static(answers: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    async def resolve(host: str, port: int) -> list[str]:
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "inconnu")
        return answers[host]

    return resolve


def test_a_name_is_refused_when_any_address_is_inside() -> None:
    policy = DestinationPolicy(
        resolver=_static(
            {
                "public.exemple.ca": ["203.0.114.7", "2606:4700::6810:84e5"],
                "melange.exemple.ca": ["8.8.8.8", "127.0.0.1"],
                "rebond.exemple.ca": ["::ffff:169.254.169.254"],
                "lienlocal.exemple.ca": ["fe80::1%2"],
            }
        )
    )
    found = asyncio.run(policy.resolve(policy.check_url("https://public.exemple.ca/")))
    assert [str(a) for a in found] == ["203.0.114.7", "2606:4700::6810:84e5"]
    for name, shown in (
        ("melange", "127.0.0.1"),
        ("rebond", "169.254.169.254"),
        ("lienlocal", "fe80::1"),
    ):
        with pytest.raises(DestinationRefused) as caught:
            asyncio.run(policy.resolve(policy.check_url(f"https://{name}.exemple.ca/")))
        assert caught.value.code == FORBIDDEN and not caught.value.retryable
        assert shown in caught.value.message and "se résout en" in caught.value.message
    with pytest.raises(DestinationRefused) as caught:
        asyncio.run(policy.resolve(policy.check_url("https://absent.exemple.ca/")))
    assert caught.value.retryable and caught.value.code == "dns"


def test_the_system_resolver_sees_localhost_as_loopback() -> None:
    # no resolver given: getaddrinfo, for a name that passed because the node allowed
    # private networks then, checked now by a strict policy
    destination = ON_PREMISES.check_url("http://localhost.:8080/")
    with pytest.raises(DestinationRefused) as caught:
        asyncio.run(HTTP.resolve(destination))
    assert caught.value.code == FORBIDDEN and "bouclage" in caught.value.message
    assert asyncio.run(ON_PREMISES.resolve(destination))


def test_the_request_goes_to_the_checked_address_under_its_name() -> None:
    destination = STRICT.check_url("https://Crochets.Exemple.ca:8443/a/b?c=1#f")
    url, headers, extensions = pinned_request(destination, ipaddress.ip_address("203.0.114.7"))
    assert url == "https://203.0.114.7:8443/a/b?c=1"
    assert headers == {"Host": "crochets.exemple.ca:8443"}
    assert extensions == {"sni_hostname": "crochets.exemple.ca"}
    plain = HTTP.check_url("http://crochets.exemple.ca/x")
    url, headers, extensions = pinned_request(plain, ipaddress.ip_address("2606:4700::1"))
    assert (url, headers, extensions) == (
        "http://[2606:4700::1]:80/x",
        {"Host": "crochets.exemple.ca"},
        {},
    )
    literal = STRICT.check_url("https://8.8.8.8/")
    assert pinned_request(literal, literal.address)[2] == {}  # type: ignore[arg-type]

"""Where a node may send: the destination policy against server-side request forgery.

It serves two senders. **Webhooks**, below. **Protocol calls** (callbacks, the buyer's
requests, the gateway's multicast): their address is the one the registry holds for the peer
(:mod:`.inbound` refuses a ``bap_uri``/``bpp_uri`` that differs), and
:class:`~.wire.WireClient` checks it with this policy each time it opens a connection and
connects to the address it checked; private and loopback addresses are allowed only on a
network declared private (``private_network``: the demonstration, the tests, on-premises).

A node is multi-tenant: any holder of an API key (a pôle, an organisation) registers webhook
URLs, and the node then ``POST``\\ s to them from inside its own network. Without a policy a
tenant could aim the node at ``http://127.0.0.1:5432``, at the cloud metadata service
(``http://169.254.169.254/``) or at the node's neighbours on a private network. Two checks:

1. **At registration** (:meth:`DestinationPolicy.check_url`), on the text alone: an absolute
   ``https`` URL (``http`` only if ``webhook_allow_http``), no user information, at most
   :data:`MAX_URL_LENGTH` characters, a host; no control characters, spaces or backslashes
   (parsers disagree about them). The host is read by this module's own strict parser, never
   by a lenient one: an IP literal is classified (:func:`address_refusal`); an IPv4 address
   written any other way than dotted decimal (``2130706433``, ``0x7f.1``, ``0177.0.0.1``,
   ``127.1``), which ``inet_aton`` and browsers read as an address, is refused; an IPv6 zone
   (``[fe80::1%25eth0]``) is refused; names are lower-cased, IDNA-encoded, stripped of one
   trailing dot, and ``localhost``, ``*.localhost``, ``*.local``, ``*.internal``,
   ``*.home.arpa``, ``*.localdomain`` and names without a dot are refused.
2. **At each delivery** (:meth:`DestinationPolicy.resolve`): the URL is checked again (the
   settings may have changed since), the name is resolved, and the delivery is refused if
   **any** of its addresses is forbidden (DNS rebinding: a name that was public when
   registered may point at ``127.0.0.1`` today). The request then goes to the address just
   checked, not to the name: :func:`pinned_request` builds the URL on that address and carries
   the name in ``Host`` and, for ``https``, as the TLS server name (httpx's ``sni_hostname``
   request extension), so the certificate is still verified against the name. A second DNS
   answer between the check and the connection therefore cannot change the destination.

Address classes (:func:`address_refusal`): loopback (127/8, ::1), private (RFC 1918), shared
CGNAT (100.64/10) and unique-local (fc00::/7) are refused unless the node allows private
networks (``webhook_allow_private_networks``, for on-premises deployments, the demonstration
and the tests). Link-local (169.254/16 with the metadata service, fe80::/10), multicast,
unspecified (0.0.0.0/8, ::), broadcast and every other non-global (reserved, documentation,
benchmark …) address are always refused. IPv6 forms that carry an IPv4 address (mapped
``::ffff:a.b.c.d``, NAT64 ``64:ff9b::/96``, 6to4 ``2002::/16``) are judged by that address.

Limits: the check happens on this node; an HTTP proxy would resolve the name itself, so the
webhook client ignores proxy variables (``trust_env=False``). Only the first acceptable
address that answers is used; redirects are never followed (a 3xx fails the delivery).
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Final

import idna

MAX_URL_LENGTH: Final = 2048
MAX_HOST_LENGTH: Final = 253

# Stable error codes of the /api answer.
INVALID_URL: Final = "url_invalide"
HTTP_REFUSED: Final = "https_requis"
FORBIDDEN: Final = "destination_interdite"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# ``(host, port)`` → the addresses the name resolves to (text, as getaddrinfo gives them).
Resolver = Callable[[str, int], Awaitable[list[str]]]

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*)://")
_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")
_NUMBER_PART = re.compile(r"(?:0[xX][0-9a-fA-F]*|[0-9]+)")
_PORT = re.compile(r"[0-9]{1,5}")
_LOCAL_NAMES: Final = ("localhost", "localhost.localdomain")
_LOCAL_SUFFIXES: Final = (".localhost", ".local", ".internal", ".home.arpa", ".localdomain")

_CGNAT: Final = ipaddress.IPv4Network("100.64.0.0/10")
_NAT64: Final = ipaddress.IPv6Network("64:ff9b::/96")
_RFC1918: Final = tuple(
    ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
)
_UNIQUE_LOCAL: Final = ipaddress.IPv6Network("fc00::/7")


class DestinationRefused(ValueError):
    """A webhook URL or address the policy refuses: a stable ``code`` and a French message.

    ``retryable``: a temporary failure (the name does not resolve now), not a refusal."""

    def __init__(self, code: str, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.code, self.message, self.retryable = code, message, retryable


@dataclass(frozen=True, slots=True)
class Destination:
    """A checked webhook URL, read by this module's parser.

    ``host``: the ASCII host (IDNA-encoded, lower case, no trailing dot, IPv6 without
    brackets); ``address``: the IP when the host is a literal; ``target``: path and query
    (``/`` when empty; the fragment is dropped)."""

    scheme: str
    host: str
    port: int
    target: str
    address: IPAddress | None = None

    @property
    def default_port(self) -> bool:
        return self.port == (443 if self.scheme == "https" else 80)

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.default_port else f"{host}:{self.port}"


# --- addresses ---------------------------------------------------------------------------


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFF_FFFF)
    return address.sixtofour


def address_refusal(address: IPAddress, *, allow_private: bool = False) -> str | None:
    """Why ``address`` may not receive a webhook (French, for the answer), or ``None``."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id:
            return "adresse IPv6 avec identifiant de zone"
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            reason = address_refusal(embedded, allow_private=allow_private)
            return f"{reason} (IPv4 {embedded} dans une adresse IPv6)" if reason else None
    if address.is_unspecified or (
        isinstance(address, ipaddress.IPv4Address) and address.packed[0] == 0
    ):
        return "adresse non spécifiée"
    if address.is_multicast:
        return "adresse de multidiffusion"
    if address.is_link_local:
        return "adresse lien-local (dont le service de métadonnées infonuagique)"
    private: str | None = None
    if address.is_loopback:
        private = "adresse de bouclage (cette machine)"
    elif isinstance(address, ipaddress.IPv4Address) and any(address in n for n in _RFC1918):
        private = "adresse de réseau privé (RFC 1918)"
    elif isinstance(address, ipaddress.IPv4Address) and address in _CGNAT:
        private = "adresse partagée de CGNAT (100.64.0.0/10)"
    elif isinstance(address, ipaddress.IPv6Address) and address in _UNIQUE_LOCAL:
        private = "adresse IPv6 unique-locale (fc00::/7)"
    if private is not None:
        return None if allow_private else private
    if address.is_reserved or not address.is_global:
        return "adresse réservée ou non routable sur Internet"
    return None


def parse_ipv4_number(host: str) -> ipaddress.IPv4Address | None:
    """The address an IPv4 host in any ``inet_aton`` form means (``2130706433``, ``0x7f.1``,
    ``0177.0.0.1``, ``127.1``), or ``None`` when it is not one (the WHATWG URL parser's rule)."""
    parts = host.split(".")
    if parts and parts[-1] == "":
        parts.pop()
    if not parts or len(parts) > 4 or not all(_NUMBER_PART.fullmatch(p) for p in parts):
        return None
    numbers: list[int] = []
    for part in parts:
        if part[:2].lower() == "0x":
            numbers.append(int(part[2:] or "0", 16))
        elif len(part) > 1 and part[0] == "0":
            if not all(c in "01234567" for c in part):
                return None
            numbers.append(int(part, 8))
        else:
            numbers.append(int(part))
    *leading, last = numbers
    if any(n > 255 for n in leading) or last >= 256 ** (5 - len(numbers)):
        return None
    value = last
    for index, number in enumerate(leading):
        value += number << (8 * (3 - index))
    return ipaddress.IPv4Address(value)


# --- URLs --------------------------------------------------------------------------------


def _invalid(message: str) -> DestinationRefused:
    return DestinationRefused(INVALID_URL, message)


def _forbidden(message: str) -> DestinationRefused:
    return DestinationRefused(FORBIDDEN, message)


def _split_authority(authority: str) -> tuple[str, str | None]:
    if authority.startswith("["):
        end = authority.find("]")
        if end < 0:
            raise _invalid("Adresse IPv6 sans crochet fermant.")
        host, rest = authority[1:end], authority[end + 1 :]
        if rest and not rest.startswith(":"):
            raise _invalid("Caractères inattendus après l'adresse IPv6.")
        return "[" + host + "]", rest[1:] if rest else None
    if authority.count(":") > 1:
        raise _invalid("Une adresse IPv6 s'écrit entre crochets : http://[2001:db8::1]/.")
    host, colon, port = authority.partition(":")
    return host, port if colon else None


def _ipv6_literal(text: str, allow_private: bool) -> IPAddress:
    if "%" in text:
        raise _forbidden("Identifiant de zone IPv6 (« %… ») refusé : adresse lien-local.")
    try:
        address = ipaddress.IPv6Address(text)
    except ValueError:
        raise _invalid("Adresse IPv6 invalide.") from None
    refusal = address_refusal(address, allow_private=allow_private)
    if refusal:
        raise _forbidden(f"Destination interdite : {refusal} ({address}).")
    return address


def _ascii_host(host: str) -> str:
    if host.isascii():
        return host.lower()
    try:
        return idna.encode(host.lower()).decode("ascii")
    except idna.IDNAError:
        raise _invalid("Nom d'hôte international invalide (IDNA).") from None


def _named_host(host: str, allow_private: bool) -> tuple[str, IPAddress | None]:
    name = _ascii_host(host)
    if name.endswith("."):
        name = name[:-1]
    if not name:
        raise _invalid("Hôte manquant.")
    labels = name.split(".")
    if _NUMBER_PART.fullmatch(labels[-1]):
        # WHATWG: a host ending in a number is an IPv4 address, whatever else it looks like.
        try:
            canonical = ipaddress.IPv4Address(name)
        except ValueError:
            meant = parse_ipv4_number(name)
            if meant is None:
                raise _invalid(f"Hôte numérique invalide : « {name[:64]} ».") from None
            raise _forbidden(
                f"Adresse IPv4 écrite sous une forme non canonique (« {name[:64]} », soit "
                f"{meant}) : écrivez-la en notation décimale pointée."
            ) from None
        refusal = address_refusal(canonical, allow_private=allow_private)
        if refusal:
            raise _forbidden(f"Destination interdite : {refusal} ({canonical}).")
        return str(canonical), canonical
    if len(name) > MAX_HOST_LENGTH or not all(_LABEL.fullmatch(label) for label in labels):
        raise _invalid(f"Nom d'hôte invalide : « {name[:64]} ».")
    if not allow_private:
        if name in _LOCAL_NAMES or name.endswith(_LOCAL_SUFFIXES):
            raise _forbidden(f"Destination interdite : nom local « {name[:64]} ».")
        if len(labels) == 1:
            raise _forbidden(
                f"Destination interdite : « {name[:64]} » n'a pas de domaine (nom de réseau "
                "interne) ; donnez un nom complet (crochets.exemple.ca)."
            )
    return name, None


@dataclass(frozen=True, slots=True)
class DestinationPolicy:
    """The node's rules for webhook destinations (from ``NodeSettings``).

    ``resolver``: how names become addresses at delivery time (``getaddrinfo`` by default);
    a test or a deployment with its own DNS gives another."""

    allow_http: bool = False
    allow_private_networks: bool = False
    resolver: Resolver | None = field(default=None, compare=False)

    @classmethod
    def from_settings(cls, settings: object) -> DestinationPolicy:
        return cls(
            allow_http=bool(getattr(settings, "webhook_allow_http", False)),
            allow_private_networks=bool(getattr(settings, "webhook_allow_private_networks", False)),
        )

    def check_url(self, url: str) -> Destination:
        """``url`` read and accepted, or :class:`DestinationRefused` saying why not."""
        if not isinstance(url, str) or not url:
            raise _invalid("Adresse manquante.")
        if len(url) > MAX_URL_LENGTH:
            raise _invalid(f"Adresse trop longue (au plus {MAX_URL_LENGTH} caractères).")
        if any(ord(c) <= 0x20 or ord(c) == 0x7F or c == "\\" for c in url):
            raise _invalid("Espaces, caractères de contrôle et « \\ » interdits dans l'adresse.")
        match = _SCHEME.match(url)
        if match is None or match.group(1).lower() not in ("http", "https"):
            raise _invalid("Adresse absolue http(s) attendue (https://crochets.exemple.ca/…).")
        scheme = match.group(1).lower()
        rest = url[match.end() :]
        cut = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
        authority, after = rest[:cut], rest[cut:]
        if "@" in authority:
            raise _invalid("Identifiants dans l'adresse (« utilisateur@ ») interdits.")
        host, port_text = _split_authority(authority)
        if port_text is None:
            port = 443 if scheme == "https" else 80
        elif _PORT.fullmatch(port_text) and 0 < int(port_text) <= 65535:
            port = int(port_text)
        else:
            raise _invalid("Port invalide (1 à 65535).")
        if not host:
            raise _invalid("Hôte manquant.")
        allow_private = self.allow_private_networks
        address: IPAddress | None
        if host.startswith("["):
            address = _ipv6_literal(host[1:-1], allow_private)
            host = str(address)
        else:
            host, address = _named_host(host, allow_private)
        if scheme == "http" and not self.allow_http:  # after the host: its refusal says more
            raise DestinationRefused(
                HTTP_REFUSED,
                "Adresse https:// requise : ce nœud n'envoie pas de webhooks en http clair.",
            )
        target = after.partition("#")[0]
        if not target.startswith("/"):
            target = "/" + target
        return Destination(scheme, host, port, target, address)

    async def resolve(self, destination: Destination) -> list[IPAddress]:
        """The addresses to send to, all allowed, or :class:`DestinationRefused` (not
        retryable when an address is forbidden; retryable when the name does not resolve)."""
        if destination.address is not None:
            return [destination.address]
        resolver = self.resolver or system_resolver
        try:
            found = await resolver(destination.host, destination.port)
        except (OSError, UnicodeError) as exc:
            raise DestinationRefused(
                "dns", f"nom « {destination.host} » non résolu ({exc})", retryable=True
            ) from None
        addresses: list[IPAddress] = []
        for text in found:
            try:
                address = ipaddress.ip_address(text)
            except ValueError:
                raise _forbidden(f"réponse DNS illisible pour « {destination.host} »") from None
            refusal = address_refusal(address, allow_private=self.allow_private_networks)
            if refusal:
                raise _forbidden(
                    f"destination interdite : « {destination.host} » se résout en {address}, "
                    f"{refusal} ; livraison abandonnée"
                )
            if address not in addresses:
                addresses.append(address)
        if not addresses:
            raise DestinationRefused(
                "dns", f"nom « {destination.host} » sans adresse", retryable=True
            )
        return addresses


async def system_resolver(host: str, port: int) -> list[str]:
    """The addresses of ``host`` from the system's resolver (``getaddrinfo``)."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def pinned_request(
    destination: Destination, address: IPAddress
) -> tuple[str, dict[str, str], dict[str, str]]:
    """``(url, headers, extensions)`` that send to ``address`` what ``destination`` names:
    the URL on the address, the name in ``Host`` and, for https, as the TLS server name
    (certificate checked against the name)."""
    shown = f"[{address}]" if isinstance(address, ipaddress.IPv6Address) else str(address)
    url = f"{destination.scheme}://{shown}:{destination.port}{destination.target}"
    extensions: dict[str, str] = {}
    if destination.scheme == "https" and destination.address is None:
        extensions["sni_hostname"] = destination.host
    return url, {"Host": destination.host_header}, extensions

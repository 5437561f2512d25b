"""The checks of the conformance tester, without I/O: each takes what was sent and received
(bytes, headers, times, the registry's records) and returns the findings, an empty list when
all is well.

The scenarios (:mod:`..seller`, :mod:`..buyer`) do the talking and feed these functions; the
tests feed them hand-made bodies as well. One module per theme: :mod:`.specs` (what is
checked), :mod:`.exchange` (what was exchanged), :mod:`.registry` (entry and challenge),
:mod:`.acks`, :mod:`.signatures`, :mod:`.messages` (schemas, context, delay), :mod:`.catalog`
and :mod:`.quote` (the Québec profile).
"""

from .acks import ACK_BODY, ack_findings
from .catalog import CatalogItem, catalog_findings
from .exchange import Received, RegistryView, Sent
from .messages import (
    callback_error_findings,
    context_findings,
    schema_findings,
    timing_findings,
    ttl_seconds,
)
from .quote import QuotedLine, quote_findings
from .registry import challenge_findings, registry_entry_findings
from .signatures import signature_findings
from .specs import (
    ACK_SHAPE,
    BUYER_CHECKS,
    BUYER_REQUEST,
    CALLBACK_ACCEPTED,
    CALLBACK_CONTEXT,
    CALLBACK_SIGNATURE,
    CALLBACK_TIMING,
    CATALOG_PROFILE,
    CHALLENGE,
    EXPIRED,
    FORGED,
    LIFECYCLE,
    QUOTE,
    REGISTRY_ENTRY,
    REGISTRY_KEY,
    REPLAY,
    SCHEMA,
    SELLER_CHECKS,
    UNKNOWN_TRANSACTION,
)

__all__ = [
    "ACK_BODY",
    "ACK_SHAPE",
    "BUYER_CHECKS",
    "BUYER_REQUEST",
    "CALLBACK_ACCEPTED",
    "CALLBACK_CONTEXT",
    "CALLBACK_SIGNATURE",
    "CALLBACK_TIMING",
    "CATALOG_PROFILE",
    "CHALLENGE",
    "EXPIRED",
    "FORGED",
    "LIFECYCLE",
    "QUOTE",
    "REGISTRY_ENTRY",
    "REGISTRY_KEY",
    "REPLAY",
    "SCHEMA",
    "SELLER_CHECKS",
    "UNKNOWN_TRANSACTION",
    "CatalogItem",
    "QuotedLine",
    "Received",
    "RegistryView",
    "Sent",
    "ack_findings",
    "callback_error_findings",
    "catalog_findings",
    "challenge_findings",
    "context_findings",
    "quote_findings",
    "registry_entry_findings",
    "schema_findings",
    "signature_findings",
    "timing_findings",
    "ttl_seconds",
]

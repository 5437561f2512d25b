"""Error codes of the network and the exceptions that carry them.

Codes follow the Beckn/ONDC series (PROTOCOL.md): 10000s gateway, 20000s buyer side,
30000s seller request errors, 40000s business errors, 50000s policy errors. The registry,
which neither Beckn nor ONDC numbers, uses the 15000s.

Every exception here carries a code, a human message (French first) and the JSON path at
fault, and turns itself into the Beckn 1.1 ``Error`` object (``code``, ``paths``,
``message``) that a NACK carries.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    """Error codes used on the wire. The value is the string sent in ``error.code``."""

    # Gateway (BG)
    GATEWAY_INVALID_REQUEST = "10000"
    GATEWAY_INVALID_SIGNATURE = "10001"
    GATEWAY_INVALID_CITY = "10002"
    GATEWAY_RATE_LIMITED = "10003"

    # Registry (not numbered by Beckn/ONDC; our own series)
    REGISTRY_INVALID_REQUEST = "15000"
    REGISTRY_INVALID_SIGNATURE = "15001"
    REGISTRY_DUPLICATE_KEY = "15002"
    REGISTRY_CHALLENGE_FAILED = "15003"
    REGISTRY_UNREACHABLE = "15004"
    REGISTRY_NOT_FOUND = "15005"
    REGISTRY_FORBIDDEN = "15006"
    REGISTRY_INVALID_STATE = "15007"
    REGISTRY_BUSY = "15008"  # too many challenges under way: 429 with Retry-After

    # Buyer side (BAP)
    BUYER_INVALID_CATALOG = "20000"
    BUYER_INVALID_SIGNATURE = "20001"
    BUYER_STALE_REQUEST = "20002"
    BUYER_PROVIDER_NOT_FOUND = "20003"
    BUYER_ITEM_NOT_FOUND = "20005"
    BUYER_UNKNOWN_TRANSACTION = "20006"
    BUYER_INVALID_RESPONSE = "20007"

    # Seller side (BPP): request errors
    INVALID_REQUEST = "30000"
    PROVIDER_NOT_FOUND = "30001"
    PROVIDER_LOCATION_NOT_FOUND = "30002"
    PROVIDER_CATEGORY_NOT_FOUND = "30003"
    ITEM_NOT_FOUND = "30004"
    CATEGORY_NOT_FOUND = "30005"
    OFFER_INVALID = "30006"
    FULFILLMENT_UNAVAILABLE = "30008"
    DELIVERY_NOT_SERVICEABLE = "30009"
    INVALID_CANCELLATION_REASON = "30012"
    UPDATE_INCONSISTENCY = "30013"
    RATING_ENTITY_NOT_FOUND = "30014"
    INVALID_RATING_VALUE = "30015"
    INVALID_SIGNATURE = "30016"
    MERCHANT_UNAVAILABLE = "30017"
    ORDER_NOT_FOUND = "30018"
    ORDER_CONFIRM_ERROR = "30019"
    MERCHANT_INACTIVE = "30021"
    STALE_REQUEST = "30022"

    # Business errors
    BUSINESS_ERROR = "40000"
    ACTION_NOT_APPLICABLE = "40001"
    QUANTITY_UNAVAILABLE = "40002"
    QUOTE_UNAVAILABLE = "40003"
    PAYMENT_NOT_SUPPORTED = "40004"
    TRACKING_NOT_ENABLED = "40005"
    BELOW_MINIMUM_ORDER = "40010"
    COLD_CHAIN_REQUIRED = "40011"

    # Policy errors
    POLICY_ERROR = "50000"
    CANCELLATION_NOT_POSSIBLE = "50001"
    UPDATE_NOT_POSSIBLE = "50002"
    UNSUPPORTED_RATING_CATEGORY = "50003"
    SUPPORT_UNAVAILABLE = "50004"
    TERMS_UNACCEPTABLE = "50005"

    @property
    def series(self) -> str:
        """The family the code belongs to: gateway, registry, buyer, seller, business, policy."""
        head = self.value[:2]
        if head == "15":
            return "registry"
        return {
            "1": "gateway",
            "2": "buyer",
            "3": "seller",
            "4": "business",
            "5": "policy",
        }[self.value[0]]


# Which code means "bad signature" depends on who refuses the message.
INVALID_SIGNATURE_BY_ROLE: dict[str, ErrorCode] = {
    "BG": ErrorCode.GATEWAY_INVALID_SIGNATURE,
    "BAP": ErrorCode.BUYER_INVALID_SIGNATURE,
    "BPP": ErrorCode.INVALID_SIGNATURE,
    "BREG": ErrorCode.REGISTRY_INVALID_SIGNATURE,
}

STALE_REQUEST_BY_ROLE: dict[str, ErrorCode] = {
    "BG": ErrorCode.GATEWAY_INVALID_REQUEST,
    "BAP": ErrorCode.BUYER_STALE_REQUEST,
    "BPP": ErrorCode.STALE_REQUEST,
    "BREG": ErrorCode.REGISTRY_INVALID_REQUEST,
}


class ProtocolError(Exception):
    """A refusal that travels back to the peer as a NACK.

    ``path`` is a JSON path into the message at fault (``message.order.items[0].quantity``),
    or a header name for signature failures (``headers.Authorization``).
    """

    default_code: ErrorCode = ErrorCode.INVALID_REQUEST
    http_status: int = 400

    def __init__(
        self,
        message: str,
        *,
        code: ErrorCode | None = None,
        path: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.path = path
        self.details = details or {}

    def to_error(self) -> dict[str, str]:
        """The Beckn 1.1 ``Error`` object."""
        error = {"code": self.code.value, "message": self.message}
        if self.path:
            error["paths"] = self.path
        return error

    def to_nack(self) -> dict[str, Any]:
        """The whole NACK body: ``{"message": {"ack": {"status": "NACK"}}, "error": {...}}``."""
        return {"message": {"ack": {"status": "NACK"}}, "error": self.to_error()}

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(code={self.code.value}, path={self.path!r}, {self.message!r})"
        )


class SignatureError(ProtocolError):
    """The ``Authorization`` (or gateway) header is missing, malformed, or does not verify.

    ``reason`` is a short machine-readable word (``malformed``, ``digest_mismatch``,
    ``expired`` …) that tools and metrics can count; ``message`` says it for people.
    """

    default_code = ErrorCode.INVALID_SIGNATURE
    http_status = 401

    def __init__(
        self,
        reason: str,
        message: str,
        *,
        code: ErrorCode | None = None,
        path: str | None = None,
    ) -> None:
        super().__init__(message, code=code, path=path)
        self.reason = reason


class StaleRequestError(ProtocolError):
    """A message already seen (replay) or past its time to live."""

    default_code = ErrorCode.STALE_REQUEST
    http_status = 400


class LifecycleError(ProtocolError):
    """An action or a fulfilment state that may not follow the current one."""

    default_code = ErrorCode.POLICY_ERROR
    http_status = 400


class KeyFormatError(ValueError):
    """A key file or key string that is not a key we can use. A local mistake, not a NACK."""

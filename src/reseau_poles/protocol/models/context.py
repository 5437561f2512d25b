"""The envelope of every call: ``context``, and the immediate answer, ACK or NACK.

``Context`` follows Beckn 1.1: the region travels in ``location.city.code``, the country in
``location.country.code``, the time to live as an ISO 8601 duration (``PT30S``).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final, Literal, get_args

from .base import BecknModel
from .common import TagGroup
from .location import City, Country, Location
from .scalars import DateTime, Duration, Uri, Uuid

if TYPE_CHECKING:
    from ..errors import ProtocolError

Action = Literal[
    "search",
    "select",
    "init",
    "confirm",
    "status",
    "track",
    "cancel",
    "update",
    "rating",
    "support",
    "on_search",
    "on_select",
    "on_init",
    "on_confirm",
    "on_status",
    "on_track",
    "on_cancel",
    "on_update",
    "on_rating",
    "on_support",
]
ACTIONS: Final[tuple[str, ...]] = get_args(Action)
REQUEST_ACTIONS: Final = tuple(a for a in ACTIONS if not a.startswith("on_"))
CALLBACK_ACTIONS: Final = tuple(a for a in ACTIONS if a.startswith("on_"))

CORE_VERSION: Final = "1.1.0"
DEFAULT_TTL: Final = "PT30S"


def callback_action(action: str) -> str:
    """``search`` → ``on_search``."""
    return f"on_{action}"


def _now() -> datetime:
    """Now, to the millisecond: what Beckn tools write (``2026-11-26T10:00:00.123Z``)."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


class Context(BecknModel):
    """Who sends what to whom, in which transaction, when, and for how long it holds.

    Built in Python, ``version`` and ``ttl`` take the network's values (``1.1.0``, ``PT30S``)
    and are written out; read from the wire, a message that left them out stays that way.
    """

    domain: str
    location: Location | None = None
    action: Action
    version: str = CORE_VERSION
    bap_id: str
    bap_uri: Uri
    bpp_id: str | None = None
    bpp_uri: Uri | None = None
    transaction_id: Uuid
    message_id: Uuid
    timestamp: DateTime
    key: str | None = None
    ttl: Duration = DEFAULT_TTL

    def model_post_init(self, context: Any, /) -> None:
        super().model_post_init(context)
        if not (context and context.get("wire")):
            self.__pydantic_fields_set__.update(("version", "ttl"))

    @classmethod
    def new(
        cls,
        action: Action,
        *,
        domain: str,
        bap_id: str,
        bap_uri: str,
        city_code: str,
        country_code: str = "CAN",
        bpp_id: str | None = None,
        bpp_uri: str | None = None,
        transaction_id: str | None = None,
        timestamp: datetime | None = None,
        ttl: str = DEFAULT_TTL,
    ) -> Context:
        """A fresh context: new message id (and transaction id unless given), time now."""
        return cls(
            domain=domain,
            location=Location(city=City(code=city_code), country=Country(code=country_code)),
            action=action,
            bap_id=bap_id,
            bap_uri=bap_uri,
            bpp_id=bpp_id,
            bpp_uri=bpp_uri,
            transaction_id=transaction_id or str(uuid.uuid4()),
            message_id=str(uuid.uuid4()),
            timestamp=timestamp or _now(),
            ttl=ttl,
        )

    def for_callback(
        self,
        *,
        bpp_id: str | None = None,
        bpp_uri: str | None = None,
        timestamp: datetime | None = None,
    ) -> Context:
        """The context of the answer: ``on_{action}``, same transaction and message ids."""
        if self.action.startswith("on_"):
            raise ValueError(f"{self.action} est déjà un rappel")
        update: dict[str, Any] = {
            "action": callback_action(self.action),
            "timestamp": timestamp or _now(),
        }
        if bpp_id is not None:
            update["bpp_id"] = bpp_id
        if bpp_uri is not None:
            update["bpp_uri"] = bpp_uri
        data = self.model_dump(exclude_unset=True) | update
        return type(self).model_validate(data)


class Error(BecknModel):
    """Why a message was refused: a code of the Beckn/ONDC series, the JSON path, a message."""

    code: str | None = None
    paths: str | None = None
    message: str | None = None


class Ack(BecknModel):
    """``ACK``: the callback will come. ``NACK``: it will not, and ``error`` says why."""

    status: Literal["ACK", "NACK"]
    tags: list[TagGroup] | None = None


class AckMessage(BecknModel):
    """The ``message`` of an immediate answer."""

    ack: Ack


class AckResponse(BecknModel):
    """The synchronous answer to every call: ``{"message": {"ack": {"status": …}}}``."""

    message: AckMessage
    error: Error | None = None

    @classmethod
    def ack(cls) -> AckResponse:
        return cls(message=AckMessage(ack=Ack(status="ACK")))

    @classmethod
    def nack(cls, error: Error | ProtocolError) -> AckResponse:
        """A NACK carrying ``error`` (an :class:`Error`, or a ProtocolError turned into one)."""
        if not isinstance(error, Error):
            error = Error.model_validate(error.to_error())
        return cls(message=AckMessage(ack=Ack(status="NACK")), error=error)

    @property
    def is_ack(self) -> bool:
        return self.message.ack.status == "ACK"


__all__ = [
    "ACTIONS",
    "CALLBACK_ACTIONS",
    "CORE_VERSION",
    "DEFAULT_TTL",
    "REQUEST_ACTIONS",
    "Ack",
    "AckMessage",
    "AckResponse",
    "Action",
    "Context",
    "Error",
    "callback_action",
]

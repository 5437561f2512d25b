"""The one inbound pipeline: every protocol request of every role passes through
:meth:`ProtocolEndpoint.__call__`, which runs the role's :class:`Pipeline` and answers.

A pipeline is an ordered list of named steps (ARCHITECTURE.md, « une requête est une suite
d'étapes nommées »). :func:`inbound_pipeline` gives the steps every role shares, in this
order, each a small method of :class:`~.inbound.Inbound`:

``read_body``         the raw bytes, refused with 413 beyond the size limit (before a byte
                      is read when ``Content-Length`` says so);
``verify_signature``  ``Authorization`` against the signer's key from the registry cache, then
                      the gateway's header when present or required;
``decode``            JSON with a ``context`` under the JSON guard (duplicates, nesting, huge
                      strings or arrays), ``context.action`` the URL's, a ``message_id``;
``check_signer``      the signer is ``context.bap_id`` (request) or ``context.bpp_id``
                      (callback);
``check_sender_uri``  the sender's address in the context is the registry's;
``check_timestamp``   ``context.timestamp`` inside the signature's window;
``guard_replay``      a message seen inside its validity window is refused — its slot is given
                      back when a later check refuses the message;
``validate``          the rules of the action's Beckn model.

A role adds its own steps at a named anchor, never by writing the order again: the gateway
inserts ``route``, ``check_target`` and ``rate_limit`` before ``guard_replay`` (a search over
its rate takes no replay slot) and appends ``multicast``; a node appends ``handle`` (its
handler on the protocol threads). Then the ACK, fixed bytes.

Any exception becomes the answer through one function, :func:`~.answers.refusal_for`, the
same for every role: a :class:`~.acks.Refusal` is its own answer (401 with the challenge
header, 400 with the JSON path, 413, 429 …); a handler's :class:`ProtocolError` its NACK; a
database that does not answer 503 with ``Retry-After``; anything else 500 with a NACK in the
role's invalid-request code, logged with its traceback, which never leaves the process.

The endpoint is raw ASGI, mounted in front of the application (:func:`mount`): no request
object, no routing, no dependency resolution; the message is recorded in the transcript after
the answer has left. Its OpenAPI path item is declared beside it (:class:`ProtocolDocs`) and
merged into the application's document (:func:`document_protocol_endpoints`): the code that
is documented is the code that serves.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from ..protocol.errors import ProtocolError
from .acks import ACK_BODY, INVALID_REQUEST_BY_ROLE, Refusal
from .answers import refusal_for, send_answer
from .inbound import Inbound, InboundMessage
from .transcript import Transcript

# --- the pipeline --------------------------------------------------------------------------------


class Call:
    """One protocol request on its way through the pipeline: what each step found."""

    __slots__ = (
        "action",
        "body",
        "finite",
        "gateway",
        "headers",
        "message",
        "path",
        "payload",
        "receive",
        "record",
        "replay_key",
        "route",
        "signer",
    )

    def __init__(
        self,
        action: str,
        headers: Mapping[str, str],
        *,
        receive: Receive | None = None,
        body: bytes = b"",
        path: str = "",
    ) -> None:
        self.action = action
        self.headers = headers
        self.receive = receive  # None: ``body`` is already read
        self.body = body
        self.path = path or f"/{action}"
        self.payload: dict[str, Any] = {}
        self.finite = False  # every number in the body is finite (the models need not look)
        self.signer: Any = None
        self.record: Any = None
        self.gateway: Any = None
        self.replay_key: str | None = None
        self.route: Any = None  # a role's routing decision (the gateway's)
        self.message: InboundMessage | None = None

    @property
    def context(self) -> dict[str, Any]:
        context: dict[str, Any] = self.payload["context"]
        return context

    def inbound_message(self) -> InboundMessage:
        """The message that passed every check, as a handler receives it."""
        if self.message is None:
            self.message = InboundMessage(
                self.action, self.body, self.payload, self.signer, self.record, self.gateway
            )
        return self.message


StepFunction = Callable[[Call], Awaitable[None] | None]


def answered(exc: BaseException) -> bool:
    """Whether a handler's exception is its answer to the message (a NACK below 500: the
    message was judged, and stays seen by the replay guard) rather than a failure to handle it
    (its database unavailable, an unexpected error: nothing was kept, and the sender's retry
    must not be refused as a replay)."""
    if isinstance(exc, Refusal):
        return exc.status_code < 500
    return isinstance(exc, ProtocolError) and exc.http_status < 500


@dataclass(frozen=True, slots=True)
class Step:
    """A named step. ``undo`` runs when a later step refuses the message before it is settled
    (the replay guard gives its slot back); a ``settles`` step drops the undo of the steps
    before it once it has answered: from it on, the message was accepted (a handler's NACK
    keeps the replay slot). A settles step that fails to handle the message (:func:`answered`
    is false: 503 while its database is down, 500) undoes them: the sender will retry."""

    name: str
    run: StepFunction
    undo: Callable[[Call], Awaitable[None]] | None = None
    settles: bool = False
    asynchronous: bool = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "asynchronous", inspect.iscoroutinefunction(self.run))


class Pipeline:
    """The ordered, named steps of a role's protocol requests. A role inserts or replaces
    steps at named anchors; :meth:`run` is the only place they are called in order."""

    def __init__(self, steps: Iterable[Step]) -> None:
        self._steps: list[Step] = []
        for step in steps:
            self._add(len(self._steps), step)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(step.name for step in self._steps)

    def __getitem__(self, name: str) -> Step:
        return self._steps[self._index(name)]

    def _index(self, name: str) -> int:
        for index, step in enumerate(self._steps):
            if step.name == name:
                return index
        raise KeyError(f"étape inconnue : {name!r} (étapes : {', '.join(self.names)})")

    def _add(self, index: int, step: Step) -> None:
        if step.name in self.names:
            raise ValueError(f"étape en double : {step.name!r}")
        self._steps.insert(index, step)

    def insert_before(self, anchor: str, *steps: Step) -> Pipeline:
        index = self._index(anchor)
        for offset, step in enumerate(steps):
            self._add(index + offset, step)
        return self

    def insert_after(self, anchor: str, *steps: Step) -> Pipeline:
        index = self._index(anchor) + 1
        for offset, step in enumerate(steps):
            self._add(index + offset, step)
        return self

    def append(self, *steps: Step) -> Pipeline:
        for step in steps:
            self._add(len(self._steps), step)
        return self

    def replace(self, name: str, step: Step) -> Pipeline:
        index = self._index(name)
        if step.name != name and step.name in self.names:
            raise ValueError(f"étape en double : {step.name!r}")
        self._steps[index] = step
        return self

    def remove(self, name: str) -> Pipeline:
        del self._steps[self._index(name)]
        return self

    async def run(self, call: Call) -> Call:
        """Every step in order; the first refusal stops the message (raised), after the undo
        of the steps before it that have one, unless a ``settles`` step was reached."""
        undo: list[Step] = []
        try:
            for step in self._steps:
                try:
                    if step.asynchronous:
                        await step.run(call)  # type: ignore[misc]
                    else:
                        step.run(call)
                except Exception as exc:
                    if step.settles and answered(exc):
                        undo.clear()
                    raise
                if step.settles:
                    undo.clear()
                if step.undo is not None:
                    undo.append(step)
        except Exception:
            for done in reversed(undo):
                await done.undo(call)  # type: ignore[misc]
            raise
        return call

    async def verify(self, body: bytes, headers: Mapping[str, str], action: str) -> InboundMessage:
        """Run the pipeline on a body already read; the message that passed (tests, bench)."""
        call = await self.run(Call(action, headers, body=body))
        return call.inbound_message()


def inbound_pipeline(inbound: Inbound) -> Pipeline:
    """The steps every role shares (module docstring), on ``inbound``'s checks."""

    async def read_body(call: Call) -> None:
        if call.receive is not None:
            call.body = await inbound.read_asgi(call.headers, call.receive)

    async def verify_signature(call: Call) -> None:
        call.signer, call.record, call.gateway = await inbound.verify_signature(
            call.body, call.headers, call.action
        )

    def decode(call: Call) -> None:
        call.payload, call.finite = inbound.decode_body(call.body, call.action)

    def check_signer(call: Call) -> None:
        inbound.check_signer(call.payload["context"], call.action, call.signer)

    def check_sender_uri(call: Call) -> None:
        inbound.check_sender_uri(call.payload["context"], call.action, call.record)

    def check_timestamp(call: Call) -> None:
        inbound.check_timestamp(call.payload["context"], call.signer)

    async def guard_replay(call: Call) -> None:
        call.replay_key = await inbound.guard_replay(
            call.payload["context"], call.action, call.signer
        )

    async def forget_replay(call: Call) -> None:
        if call.replay_key is not None and inbound.replay_guard is not None:
            await inbound.replay_guard.forget(call.replay_key)

    def validate(call: Call) -> None:
        inbound.validate(call.action, call.body, call.payload, numbers_finite=call.finite)

    return Pipeline(
        [
            Step("read_body", read_body),
            Step("verify_signature", verify_signature),
            Step("decode", decode),
            Step("check_signer", check_signer),
            Step("check_sender_uri", check_sender_uri),
            Step("check_timestamp", check_timestamp),
            Step("guard_replay", guard_replay, undo=forget_replay),
            Step("validate", validate),
        ]
    )


def handler_step(handle: Callable[[InboundMessage], Awaitable[None]], name: str = "handle") -> Step:
    """The step that hands the accepted message to a role's handler (which may raise a
    :class:`ProtocolError`: its NACK)."""

    async def run(call: Call) -> None:
        await handle(call.inbound_message())

    return Step(name, run, settles=True)


# --- the endpoint --------------------------------------------------------------------------------

Observe = Callable[[Call, Refusal | None], None]


def asgi_headers(scope: Scope) -> dict[str, str]:
    """A raw ASGI request's headers by lower-case name; the first of a repeated one, as
    Starlette reads them."""
    headers: dict[str, str] = {}
    for name, value in scope["headers"]:
        headers.setdefault(name.decode("latin-1"), value.decode("latin-1"))
    return headers


class ProtocolEndpoint:
    """Raw ASGI, in front of the application: ``POST`` on the endpoint's path runs the
    pipeline and answers; every other request goes on to ``app``.

    ``path`` is ``/{action}`` (any one-segment path no other ``POST`` route of ``owner``
    claims, the action being that segment) or a fixed path such as ``/search`` (its last
    segment the action); a trailing ``/`` is allowed. ``observe(call, refusal)`` runs before
    the answer leaves (``None``: ACK); the transcript records after."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        pipeline: Pipeline,
        role: str,
        path: str = "/{action}",
        transcript: Transcript | None = None,
        observe: Observe | None = None,
        owner: FastAPI | None = None,
    ) -> None:
        self.app = app
        self.pipeline = pipeline
        self.role = role
        self.path = path
        self.transcript = transcript
        self.observe = observe
        self.owner = owner
        self._fixed = None if path == "/{action}" else path.rstrip("/").rsplit("/", 1)[-1]
        self._reserved: frozenset[str] | None = None
        INVALID_REQUEST_BY_ROLE[role]  # an unknown role fails here, not at the first error

    def action_of(self, path: str) -> str | None:
        """The action ``path`` names for this endpoint, else ``None``."""
        if path.endswith("/") and len(path) > 1:
            path = path[:-1]
        if self._fixed is not None:
            return self._fixed if path == self.path else None
        if path.count("/") != 1 or len(path) < 2:
            return None
        if self._reserved is None:
            self._reserved = _post_routes(self.owner)
        return None if path in self._reserved else path[1:]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Every protocol request of every role goes through here."""
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        action = self.action_of(scope["path"])
        if action is None:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        call = Call(action, asgi_headers(scope), receive=receive)
        refusal: Refusal | None = None
        try:
            await self.pipeline.run(call)
        except Exception as exc:
            refusal = refusal_for(exc, self.role, f"POST {scope['path']}")
        if self.observe is not None:
            self.observe(call, refusal)
        if refusal is None:
            status, content = 200, ACK_BODY
            await send_answer(send, 200, ACK_BODY)
        else:
            status, content = refusal.status_code, refusal.body()
            await send_answer(send, status, content, refusal.headers)
        if self.transcript is not None:
            self.transcript.inbound(
                call.path, call.headers, call.body, status, content, time.perf_counter() - started
            )


def _post_routes(app: FastAPI | None) -> frozenset[str]:
    """The one-segment paths another ``POST`` route of ``app`` serves (``/on_subscribe``)."""
    if app is None:
        return frozenset()
    found = set()
    for route in app.routes:
        path = getattr(route, "path", "")
        methods = getattr(route, "methods", None) or ()
        if "POST" in methods and path.count("/") == 1 and "{" not in path:
            found.add(path)
    return frozenset(found)


# --- OpenAPI -------------------------------------------------------------------------------------

_PROTOCOL_DOCS: Final = "reseau_poles_protocol_docs"
_ACK_REF: Final = "#/components/schemas/AckResponse"

SIGNATURE_PARAMETER: Final[Mapping[str, Any]] = {
    "name": "Authorization",
    "in": "header",
    "required": True,
    "description": (
        "Signature BECKN-006 de l'expéditeur : Ed25519 sur le condensé BLAKE2b-512 des octets "
        "exacts du corps. Une signature absente, expirée ou fausse reçoit un NACK 401."
    ),
    "schema": {"type": "string"},
    "example": (
        'Signature keyId="achats.cscapitale.example|cle-2026-11|ed25519",algorithm="ed25519",'
        'created="1795687200",expires="1795687230",headers="(created) (expires) digest",'
        'signature="…"'
    ),
}
ANSWERS: Final[Mapping[str, str]] = {
    "200": "ACK",
    "400": "NACK : requête invalide (code d'erreur et chemin JSON fautif).",
    "401": "NACK : signature absente, expirée ou fausse.",
    "413": "NACK : corps trop long.",
    "429": "NACK : trop de requêtes, voir Retry-After.",
    "500": "NACK : erreur interne, sans détail.",
}


def beckn_example(action: str, summary: str) -> dict[str, Any]:
    """A request example: the profile's example message of ``action``."""
    from ..protocol.models.examples import example_json

    return {"summary": summary, "value": example_json(action)}


def _answer_examples() -> dict[str, dict[str, Any]]:
    from ..protocol.models.examples import example_nack

    return {
        "200": {
            "ack": {
                "summary": "ACK : message reçu et enregistré",
                "value": {"message": {"ack": {"status": "ACK"}}},
            }
        },
        "400": {
            "nack": {
                "summary": "NACK : le code d'erreur et le chemin JSON fautif",
                "value": example_nack().model_dump(mode="json", exclude_none=True),
            }
        },
    }


@dataclass(frozen=True)
class ProtocolDocs:
    """What the OpenAPI document says of a protocol endpoint: its path item, built from this
    declaration (summary, description, the ``SignatureBeckn`` security, the body and its
    examples, the ACK and NACK answers with their schema)."""

    path: str
    summary: str
    description: str
    operation_id: str
    examples: Callable[[], dict[str, dict[str, Any]]]
    tags: Sequence[str] = ()
    answers: Mapping[str, str] = field(default_factory=dict)  # status → description

    def path_item(self) -> dict[str, Any]:
        parameters: list[dict[str, Any]] = [dict(SIGNATURE_PARAMETER)]
        if self.path == "/{action}":
            parameters.append(
                {
                    "in": "path",
                    "name": "action",
                    "required": True,
                    "schema": {"title": "Action", "type": "string"},
                }
            )
        examples = _answer_examples()
        responses: dict[str, Any] = {}
        for status, description in {**ANSWERS, **self.answers}.items():
            media: dict[str, Any] = {"schema": {"$ref": _ACK_REF}}
            if status in examples:
                media["examples"] = examples[status]
            responses[status] = {
                "description": description,
                "content": {"application/json": media},
            }
        operation: dict[str, Any] = {
            "summary": self.summary,
            "description": self.description,
            "operationId": self.operation_id,
            "parameters": parameters,
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": {"type": "object"}, "examples": self.examples()}
                },
            },
            "responses": responses,
            "security": [{"SignatureBeckn": []}],
        }
        if self.tags:
            operation["tags"] = list(self.tags)
        return {"post": operation}


def mount(
    app: FastAPI,
    pipeline: Pipeline,
    *,
    role: str,
    docs: ProtocolDocs | None = None,
    transcript: Transcript | None = None,
    observe: Observe | None = None,
) -> None:
    """Serve ``pipeline`` as ``app``'s protocol endpoint (outermost layer: mount it after
    every other middleware), documented by ``docs`` in ``app``'s OpenAPI document."""
    path = docs.path if docs is not None else "/{action}"
    app.add_middleware(
        ProtocolEndpoint,
        pipeline=pipeline,
        role=role,
        path=path,
        transcript=transcript,
        observe=observe,
        owner=app,
    )
    if docs is not None:
        documented = getattr(app.state, _PROTOCOL_DOCS, [])
        setattr(app.state, _PROTOCOL_DOCS, [*documented, docs])


def document_protocol_endpoints(app: FastAPI, document: dict[str, Any]) -> None:
    """The path items of ``app``'s protocol endpoints, into its OpenAPI document."""
    for docs in getattr(app.state, _PROTOCOL_DOCS, ()):
        document.setdefault("paths", {})[docs.path] = docs.path_item()

"""One object that wires the network layer for a node, so every role starts it the same way.

    network = NodeNetwork(subscriber_id=…, role="BPP", signer=signer, settings=settings,
                          engine=engine)
    network.install(app)                              # error answers (+ transcript)
    network.serve_protocol(app, handle)               # POST /{action}: the pipeline, last
    async with network:                               # in the app's lifespan
        ...
    with network.outgoing() as out, write_session(factory) as session:
        ...                                               # the state change
        out.send(session, bap_uri, "on_search", body)     # sent once committed

Every part stays usable alone (the gateway builds its own pipeline on an ``Inbound``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence

from fastapi import FastAPI, Response
from sqlalchemy import Engine

from ..protocol.signing import Signer
from .client import NetworkClient
from .inbound import Inbound, InboundMessage, install
from .lookup import RegistryLookup
from .outbox import OutboxWorker
from .outgoing import Outgoing
from .pipeline import Pipeline, ProtocolDocs, handler_step, inbound_pipeline, mount
from .replay import ReplayGuard, make_replay_guard
from .retention import PurgeTarget, RetentionTask
from .settings import NetworkSettings
from .tables import migrate
from .transcript import Transcript, TranscriptMiddleware


class NodeNetwork:
    """Lookup cache, inbound pipeline, replay guard, signed client, outbox worker, transcript,
    and the retention task that purges the old outbox and transcript rows."""

    def __init__(
        self,
        *,
        subscriber_id: str,
        role: str,
        signer: Signer | None,
        settings: NetworkSettings | None = None,
        engine: Engine | None = None,
        lookup: RegistryLookup | None = None,
        replay_guard: ReplayGuard | None = None,
        transcript: Transcript | None = None,
        run_outbox: bool = True,
        run_retention: bool = True,
        replay_exempt_actions: Iterable[str] = (),
        retention_targets: Sequence[PurgeTarget] = (),
    ) -> None:
        """``replay_exempt_actions``: actions whose handler is its own replay guard — it
        stores each message durably under a unique (action, sender, message id), ACKs an
        exact copy again without effect and refuses another body under the same id (the
        buyer's order callbacks). The in-memory/Redis window guard, which would refuse a
        sender's honest resend of a message we hold, is skipped for them
        (:meth:`Inbound.guard_replay`). ``retention_targets``: the role's own old rows,
        purged with the outbox and transcript rows (:class:`PurgeTarget`)."""
        self.settings = settings = settings or NetworkSettings()
        self.subscriber_id = subscriber_id
        self.role = role
        self.engine = engine
        self.lookup = lookup or RegistryLookup.from_settings(settings)
        self.replay_guard = replay_guard or make_replay_guard(
            settings.redis_url, max_entries=settings.replay_max_entries
        )
        self.inbound = Inbound.from_settings(
            subscriber_id,
            role,
            settings,
            self.lookup,
            replay_guard=self.replay_guard,
            replay_exempt_actions=replay_exempt_actions,
        )
        if transcript is None and (
            settings.transcript_path or (engine is not None and settings.transcript_database)
        ):
            transcript = Transcript(
                settings.transcript_path,
                engine=engine if settings.transcript_database else None,
                linger=settings.transcript_linger,
            )
        self.transcript = transcript
        self.client = NetworkClient.from_settings(signer, settings, transcript=transcript)
        self.worker = (
            OutboxWorker.from_settings(engine, self.client, settings)
            if engine is not None and run_outbox
            else None
        )
        self.retention = (
            RetentionTask.from_settings(engine, settings, retention_targets)
            if engine is not None and run_retention
            else None
        )

    def install(
        self,
        app: FastAPI,
        *,
        unexpected_by_prefix: Mapping[str, Callable[[], Response]] | None = None,
        unrecorded: Sequence[str] = (),
    ) -> None:
        """Refusals as NACK answers (see :func:`install`); inbound messages into the
        transcript, except under the path prefixes ``unrecorded``."""
        install(app, self.inbound, unexpected_by_prefix=unexpected_by_prefix)
        if self.transcript is not None:
            app.add_middleware(
                TranscriptMiddleware, transcript=self.transcript, unrecorded=unrecorded
            )

    def pipeline(self, handle: Callable[[InboundMessage], Awaitable[None]]) -> Pipeline:
        """The node's protocol pipeline: the shared checks (:func:`inbound_pipeline`), then
        ``handle`` (the step named ``handle``)."""
        return inbound_pipeline(self.inbound).append(handler_step(handle))

    def serve_protocol(
        self,
        app: FastAPI,
        handle: Callable[[InboundMessage], Awaitable[None]],
        *,
        docs: ProtocolDocs | None = None,
    ) -> Pipeline:
        """``POST /{action}`` of ``app``: :meth:`pipeline` as raw ASGI in front of it, the
        message recorded in the transcript after the answer. Call it after :meth:`install`
        and every other middleware (it must be the outermost layer)."""
        pipeline = self.pipeline(handle)
        mount(app, pipeline, role=self.role, docs=docs, transcript=self.transcript)
        return pipeline

    def outgoing(self) -> Outgoing:
        """The calls of one unit of work, handed to this node's worker once it committed
        (:class:`Outgoing`)::

            with network.outgoing() as out, write_session(factory) as session:
                ...
                out.send(session, bap_uri, "on_confirm", body)
        """
        return Outgoing(self.worker, self.settings.outbox_default_ttl)

    async def start(self) -> None:
        """Create the network tables if needed, start the registry watch, the outbox worker
        and the retention task."""
        if self.engine is not None:
            await asyncio.to_thread(migrate, self.engine)
        self.lookup.start_watch(self.settings.registry_watch_interval)
        if self.worker is not None:
            self.worker.start()
        if self.retention is not None:
            self.retention.start()

    async def aclose(self) -> None:
        if self.retention is not None:
            await self.retention.stop()
        if self.worker is not None:
            await self.worker.stop()
        await self.client.aclose()
        await self.lookup.aclose()
        await self.replay_guard.aclose()
        if self.transcript is not None:
            await asyncio.to_thread(self.transcript.close)

    async def __aenter__(self) -> NodeNetwork:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

"""Transcript: every protocol message a node sends and receives, as it crossed the wire.

A vendor uses it to debug an integration and to prove conformance, so it keeps the exact
headers and body bytes, the ACK/NACK, the HTTP status and the latency. It goes to a JSONL file
(``--transcript FILE``) and, when the role gives an engine, to the ``network_transcript``
table. Writing happens on a background thread: recording never blocks the event loop.

What is recorded: the Beckn calls and callbacks a role receives, where its protocol endpoint
answers them (:class:`~.pipeline.ProtocolEndpoint`, refusals included), and those it sends
(:class:`~.client.NetworkClient`). A role's other routes are no protocol messages and are not
recorded: the client API (its requests carry API keys) and the registry's challenge
(``/on_subscribe``: no context, no ACK; an answered challenge read as a Beckn answer would
show as an error).

The writer lingers a little (``linger`` seconds, 0: no) after the first entry of a batch, so
that a busy node writes its messages a batch per transaction instead of one each; ``flush()``
and ``close()`` cut the wait short and return once everything recorded before them is written.
"""

from __future__ import annotations

import base64
import json
import logging
import queue
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Engine, insert

from ..files import open_private
from ..protocol.errors import SignatureError
from ..protocol.signing import AUTHORIZATION, parse_header
from ..storage import utcnow
from .acks import context_ids, read_ack
from .tables import transcript_table

log = logging.getLogger(__name__)
_STOP = object()
DEFAULT_LINGER = 0.05


class CallOutcome(Protocol):
    """What :meth:`Transcript.outbound` records of a call's result (the client's
    :class:`~.client.CallResult`; the client records through this module, not the reverse)."""

    @property
    def status(self) -> str: ...
    @property
    def http_status(self) -> int | None: ...
    @property
    def error_code(self) -> str | None: ...
    @property
    def latency(self) -> float: ...


class Transcript:
    """Records messages to a JSONL file and/or a database table. Thread-safe; ``close()``
    flushes. Up to ``batch`` entries per write, gathered for ``linger`` seconds after the
    first."""

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        engine: Engine | None = None,
        batch: int = 200,
        linger: float = DEFAULT_LINGER,
    ) -> None:
        self.path = Path(path) if path else None
        self.engine = engine
        self.batch = batch
        self.linger = linger
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._hurry = threading.Event()  # a flush or close waits: stop lingering
        self._file = None
        if self.path is not None:
            # Signed messages, billing details: 0600 (folder 0700), whatever the umask.
            self._file = open_private(self.path, "a", encoding="utf-8")
        self._thread = threading.Thread(target=self._write_loop, name="transcript", daemon=True)
        self._thread.start()

    # --- recording ----------------------------------------------------------------------------

    def outbound(
        self,
        url: str,
        action: str,
        headers: Mapping[str, str],
        body: bytes,
        result: CallOutcome,
    ) -> None:
        transaction_id, message_id = context_ids(body)
        self.record(
            direction="out",
            action=action,
            peer=url,
            url=url,
            headers=headers,
            body=body,
            status=result.status,
            http_status=result.http_status,
            error_code=result.error_code,
            latency=result.latency,
            transaction_id=transaction_id,
            message_id=message_id,
        )

    def inbound(
        self,
        url: str,
        headers: Mapping[str, str],
        body: bytes,
        http_status: int,
        response: bytes,
        latency: float,
        *,
        answered: bool = False,
    ) -> None:
        """One message received and the node's answer. ``answered``: a 2xx answer that is not
        an ACK body but the exchange's own (the registry's challenge answered with its clear
        text), recorded as ``ACK``."""
        transaction_id, message_id = context_ids(body)
        if answered and 200 <= http_status < 300:
            status, error = "ACK", None
        else:
            status, error = read_ack(http_status, response)
        try:
            peer: str | None = parse_header(headers.get(AUTHORIZATION.lower())).subscriber_id
        except SignatureError:
            peer = None
        self.record(
            direction="in",
            action=url.rstrip("/").rsplit("/", 1)[-1],
            peer=peer,
            url=url,
            headers=headers,
            body=body,
            status=status,
            http_status=http_status,
            error_code=str(error.get("code")) if error and error.get("code") else None,
            latency=latency,
            transaction_id=transaction_id,
            message_id=message_id,
        )

    def record(self, **entry: Any) -> None:
        entry.setdefault("recorded_at", utcnow())
        self._queue.put(entry)

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until everything recorded so far is written (entries recorded meanwhile may
        be too); ``False`` if that took longer than ``timeout``."""
        if not self._thread.is_alive():
            return False
        done = threading.Event()
        self._queue.put(done)  # behind every entry recorded so far: set once they are written
        self._hurry.set()
        return done.wait(timeout)

    def close(self) -> None:
        self.flush()
        self._queue.put(_STOP)
        self._hurry.set()
        self._thread.join(5)
        if self._file is not None:
            self._file.close()
            self._file = None

    # --- writing ------------------------------------------------------------------------------

    def _write_loop(self) -> None:
        while True:
            first = self._queue.get()
            if self.linger > 0 and isinstance(first, dict):
                self._hurry.wait(self.linger)  # gather a batch, unless a flush is waiting
            self._hurry.clear()  # before draining: a flush after this finds its marker below
            # Entries in the order recorded; a marker (flush) is set once those before it are
            # written, the stop once everything before it is.
            items = [first]
            while True:
                try:
                    items.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            entries: list[dict[str, Any]] = []
            stop = False
            for item in items:
                if isinstance(item, dict):
                    entries.append(item)
                    if len(entries) >= self.batch:
                        self._write_safely(entries)
                        entries = []
                    continue
                self._write_safely(entries)
                entries = []
                if item is _STOP:
                    stop = True
                else:
                    item.set()
            self._write_safely(entries)
            if stop:
                return

    def _write_safely(self, entries: list[dict[str, Any]]) -> None:
        try:
            self._write(entries)
        except Exception:  # a transcript failure must never take the node down
            log.exception("journal des messages : écriture impossible")

    def _write(self, entries: list[dict[str, Any]]) -> None:
        if not entries:
            return
        if self._file is not None:
            for entry in entries:
                self._file.write(json.dumps(_json_line(entry), ensure_ascii=False) + "\n")
            self._file.flush()
        if self.engine is not None:
            rows = [
                {
                    "recorded_at": entry["recorded_at"],
                    "direction": entry["direction"],
                    "action": entry.get("action"),
                    "peer": entry.get("peer"),
                    "url": entry.get("url"),
                    "status": entry.get("status"),
                    "http_status": entry.get("http_status"),
                    "error_code": entry.get("error_code"),
                    "latency_ms": _ms(entry.get("latency")),
                    "transaction_id": entry.get("transaction_id"),
                    "message_id": entry.get("message_id"),
                    "headers": json.dumps(dict(entry.get("headers") or {}), ensure_ascii=False),
                    "body": entry.get("body"),
                }
                for entry in entries
            ]
            with self.engine.begin() as connection:
                connection.execute(insert(transcript_table), rows)


def _ms(latency: float | None) -> float | None:
    return None if latency is None else round(latency * 1000, 3)


def _json_line(entry: dict[str, Any]) -> dict[str, Any]:
    line = {key: value for key, value in entry.items() if key not in ("body", "latency")}
    line["recorded_at"] = entry["recorded_at"].isoformat().replace("+00:00", "Z")
    line["latency_ms"] = _ms(entry.get("latency"))
    line["headers"] = dict(entry.get("headers") or {})
    body: bytes = entry.get("body") or b""
    try:
        line["body"] = body.decode("utf-8")
    except UnicodeDecodeError:
        line["body_base64"] = base64.b64encode(body).decode("ascii")
    return line

"""The gateway's logic: accept a buyer's search, then multicast it to the seller nodes.

The request path is the network layer's one pipeline (:mod:`reseau_poles.network.pipeline`:
read_body, verify_signature, decode, check_signer, check_sender_uri, check_timestamp,
guard_replay, validate), with the gateway's own steps put in at named anchors
(:meth:`GatewayService.build_pipeline`):

- before ``guard_replay`` (a search refused here takes no replay slot):
  ``route`` – domain, region (``location.city.code``), country, ``bpp_id``
  (:meth:`~GatewayService.route`); ``check_target`` – a search for one suspended seller is
  refused; ``rate_limit`` – one token from the buyer's bucket, else 429;
- ``validate`` only when ``validate_models`` is on (the sellers do it);
- last, ``multicast`` – the search is recorded and its multicast started.

Then the ACK goes back and :meth:`~GatewayService.multicast` runs off the request path: find the
sellers (type BPP, domain, region; ``*`` sellers included) through the lookup cache, and post
the *same bytes* to each with the buyer's ``Authorization`` unchanged and our
``X-Gateway-Authorization`` over them. Calls run concurrently under one semaphore (a bound on
in-flight calls per process), each with its own deadline and one retry on connection failure;
a NACK or a silent seller never delays the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reseau_poles.network.acks import JSON_CONTENT_TYPE, Refusal, context_ids, read_ack
from reseau_poles.network.client import CallResult, protocol_policy
from reseau_poles.network.inbound import Inbound
from reseau_poles.network.lookup import (
    RegistryError,
    RegistryLookup,
    SubscriberRecord,
    format_time,
)
from reseau_poles.network.pipeline import Call, Pipeline, Step, inbound_pipeline
from reseau_poles.network.replay import ReplayGuard, make_replay_guard
from reseau_poles.network.transcript import Transcript
from reseau_poles.protocol.errors import ErrorCode, ProtocolError
from reseau_poles.protocol.keys import SubscriberKeys
from reseau_poles.protocol.profile.regions import WHOLE_PROVINCE, parse_region, region_matches
from reseau_poles.protocol.signing import (
    AUTHORIZATION,
    GATEWAY_AUTHORIZATION,
    PROXY_AUTHORIZATION,
    Signer,
)

from ..network.outbound import CALL_FAILURES, FailureKind, WireTransport, call_failure
from ..network.ratelimit import RateLimiter
from ..network.wire import ConnectionFailed, Target
from .logs import event
from .metrics import Metrics
from .settings import GatewaySettings
from .stats import SearchRecord, SearchStats, SellerOutcome

ACTION = "search"
RETRY_DELAY = 0.02  # before the one retry after a connection failure


@dataclass(frozen=True, slots=True)
class Route:
    """Where a search goes: the registry filters, and one seller when ``bpp_id`` is set."""

    domain: str
    city: str  # QC-01 … QC-17, or * for the whole province
    country: str | None
    bpp_id: str | None


class GatewayService:
    def __init__(
        self,
        settings: GatewaySettings,
        identity: SubscriberKeys,
        *,
        lookup: RegistryLookup | None = None,
        replay_guard: ReplayGuard | None = None,
        transcript: Transcript | None = None,
    ) -> None:
        self.settings = settings
        self.identity = identity
        self.signer = Signer(identity.subscriber_id, identity.key_id, identity.signing)
        network = settings.network()
        self.lookup = lookup or RegistryLookup.from_settings(network)
        self.replay_guard = replay_guard or make_replay_guard(
            settings.redis_url, max_entries=settings.replay_max_entries
        )
        self.inbound = Inbound(
            identity.subscriber_id,
            "BG",
            self.lookup,
            replay_guard=self.replay_guard,
            max_body_bytes=settings.inbound_max_body_bytes,
            skew=settings.signature_skew,
            validate_models=settings.validate_models,
        )
        self.pipeline = self.build_pipeline()
        if transcript is None and settings.transcript_path:
            transcript = Transcript(settings.transcript_path)
        self.transcript = transcript
        self.transport = WireTransport(
            connect_timeout=settings.seller_connect_timeout,
            max_idle_per_origin=settings.max_idle_connections_per_seller,
            policy=protocol_policy(network),
        )
        self.limiter = RateLimiter(settings.rate_limit_per_second, settings.rate_limit_burst)
        self.stats = SearchStats(
            settings.stats_max_searches,
            redis_url=settings.redis_url,
            retention=settings.stats_retention,
        )
        self.metrics = Metrics()
        self.started_at = time.time()
        self._semaphore = asyncio.Semaphore(settings.max_in_flight)
        self._tasks: set[asyncio.Task[None]] = set()
        self._targets: dict[str, Target] = {}
        self._calls_in_flight = 0
        self._domains = {d.casefold() for d in settings.domains}

    # --- the request path ---------------------------------------------------------------------

    def build_pipeline(self) -> Pipeline:
        """The network layer's steps, and the gateway's at their anchors (module docstring)."""
        pipeline = inbound_pipeline(self.inbound).insert_before(
            "guard_replay",
            Step("route", self._route_step),
            Step("check_target", self._check_target_step),
            Step("rate_limit", self._rate_limit_step),
        )
        if not self.settings.validate_models:
            pipeline.remove("validate")
        return pipeline.append(Step("multicast", self._multicast_step, settles=True))

    def _route_step(self, call: Call) -> None:
        call.route = self.route(call.context)

    async def _check_target_step(self, call: Call) -> None:
        if call.route.bpp_id is not None:
            await self.check_target(call.route)

    def _rate_limit_step(self, call: Call) -> None:
        if not self.limiter.allow(call.signer.subscriber_id):
            raise self._rate_limited(call.signer.subscriber_id)

    async def _multicast_step(self, call: Call) -> None:
        """The search is accepted: record it and start its multicast (after the ACK)."""
        context, route = call.context, call.route
        transaction_id = context.get("transaction_id")
        record = SearchRecord(
            message_id=context["message_id"],
            transaction_id=transaction_id if isinstance(transaction_id, str) else None,
            bap_id=call.signer.subscriber_id,
            domain=route.domain,
            city=route.city,
            bpp_id=route.bpp_id,
        )
        self.stats.start(record)
        authorization = _header(call.headers, AUTHORIZATION) or ""
        task = asyncio.get_running_loop().create_task(
            self.multicast(record, call.body, authorization, route)
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def answered(self, call: Call, refusal: Refusal | None) -> None:
        """Metrics and the ``search.refused`` event, as each search is answered."""
        if refusal is None:
            self.metrics.inc("gateway_searches_total", outcome="ack")
        else:
            self._refused(refusal, call.body)

    def route(self, context: Mapping[str, Any]) -> Route:
        """The ``route`` step: the context says where the search goes; refuse what cannot
        be routed."""
        domain = context.get("domain")
        if not isinstance(domain, str) or not domain.strip():
            raise _bad_request("context.domain manquant", "context.domain")
        if self._domains.isdisjoint({domain.casefold(), "*"}):
            raise _bad_request(
                f"domaine non desservi par cette passerelle : {domain[:40]!r} "
                f"(desservis : {', '.join(self.settings.domains)})",
                "context.domain",
            )
        location = context.get("location")
        if location is not None and not isinstance(location, Mapping):
            raise _bad_request(
                "context.location doit être un objet (city, country)",
                "context.location",
                code=ErrorCode.GATEWAY_INVALID_CITY,
            )
        city = location.get("city") if location is not None else None
        if city is None:
            # Beckn 1.1 makes the location optional: no city is every region, as "*" is
            # (each seller then answers with its whole catalogue, by the other criteria).
            region = WHOLE_PROVINCE
        elif not isinstance(city, Mapping) or city.get("code") is None:
            raise _bad_request(
                "context.location.city.code manquant : indiquez une région (QC-01 … QC-17, "
                "ou « * » pour tout le Québec), ou omettez context.location.city pour "
                "toutes les régions",
                "context.location.city.code",
                code=ErrorCode.GATEWAY_INVALID_CITY,
            )
        else:
            try:
                region = parse_region(
                    city["code"],
                    path="context.location.city.code",
                    error_code=ErrorCode.GATEWAY_INVALID_CITY,
                )
            except ProtocolError as exc:
                raise Refusal(exc, status_code=400) from None
        country_field = location.get("country") if location is not None else None
        country = country_field.get("code") if isinstance(country_field, Mapping) else None
        if country is not None and country != self.settings.country:
            raise _bad_request(
                f"pays non desservi : {str(country)[:10]!r} (attendu {self.settings.country})",
                "context.location.country.code",
                code=ErrorCode.GATEWAY_INVALID_CITY,
            )
        bpp_id = context.get("bpp_id")
        if bpp_id is not None and (not isinstance(bpp_id, str) or not bpp_id):
            raise _bad_request("context.bpp_id invalide", "context.bpp_id")
        return Route(domain, str(region), country, bpp_id)

    async def check_target(self, route: Route) -> None:
        """A search for one seller (``bpp_id``) that the operator suspended is refused, with
        the reason, rather than acknowledged and sent to nobody."""
        assert route.bpp_id is not None
        try:
            records = await self.lookup.subscriber(route.bpp_id, type="BPP")
        except RegistryError:
            return  # the multicast's own lookup says what happened
        if records and not any(record.subscribed for record in records):
            record = records[0]
            raise _bad_request(
                f"le nœud vendeur {route.bpp_id[:80]} est suspendu par l'opérateur du réseau "
                f"depuis {format_time(record.suspended_at)} : il ne reçoit aucune recherche",
                "context.bpp_id",
            )

    def _rate_limited(self, subscriber_id: str) -> Refusal:
        wait = self.limiter.retry_after(subscriber_id)
        error = ProtocolError(
            f"trop de recherches pour {subscriber_id} : limite de "
            f"{self.settings.rate_limit_per_second:g}/s (rafale {self.settings.rate_limit_burst})",
            code=ErrorCode.GATEWAY_RATE_LIMITED,
            path="headers.Authorization",
        )
        return Refusal(error, status_code=429, headers={"Retry-After": str(max(1, round(wait)))})

    def _refused(self, refusal: Refusal, body: bytes) -> None:
        code = refusal.error.code.value
        self.metrics.inc("gateway_searches_total", outcome="refused")
        self.metrics.inc("gateway_refusals_total", code=code)
        transaction_id, message_id = context_ids(body) if body[:1] == b"{" else (None, None)
        event(
            "search.refused",
            transaction_id=transaction_id,
            message_id=message_id,
            http_status=refusal.status_code,
            code=code,
            reason=refusal.reason,
            path=refusal.error.path,
        )

    # --- the multicast ------------------------------------------------------------------------

    async def sellers(self, route: Route) -> list[SubscriberRecord]:
        """Seller nodes for the route, one per subscriber id, from the lookup cache."""
        records = await self.lookup.find(
            type="BPP",
            domain=route.domain,
            city=None if route.city == WHOLE_PROVINCE else route.city,
            country=route.country,
        )
        chosen: dict[str, SubscriberRecord] = {}
        for record in records:
            if record.subscriber_id in chosen or not record.url or not record.subscribed:
                continue
            if route.bpp_id is not None and record.subscriber_id != route.bpp_id:
                continue
            regions = record.raw.get("regions")
            if isinstance(regions, list) and not region_matches(regions, route.city):
                continue
            chosen[record.subscriber_id] = record
        return list(chosen.values())

    def gateway_headers(self, body: bytes, authorization: str) -> dict[str, str]:
        """The headers every seller receives: the buyer's signature, unchanged, and ours."""
        ours = self.signer.sign(body, ttl=self.settings.signature_ttl)
        headers = {
            "Content-Type": JSON_CONTENT_TYPE,
            AUTHORIZATION: authorization,
            GATEWAY_AUTHORIZATION: ours,
        }
        if self.settings.proxy_authorization:
            headers[PROXY_AUTHORIZATION] = ours
        return headers

    async def multicast(
        self, record: SearchRecord, body: bytes, authorization: str, route: Route
    ) -> None:
        started = time.perf_counter()
        try:
            try:
                sellers = await self.sellers(route)
            except RegistryError as exc:
                record.state = "failed"
                record.error = f"registre : {exc}"
                self.metrics.inc("gateway_lookup_errors_total")
                event(
                    "search.lookup_failed",
                    logging.WARNING,
                    transaction_id=record.transaction_id,
                    message_id=record.message_id,
                    error=str(exc),
                )
                return
            record.lookup_ms = round((time.perf_counter() - started) * 1000, 3)
            record.targeted = len(sellers)
            self.metrics.inc("gateway_fanout_targets_total", len(sellers))
            if sellers:
                headers = self.gateway_headers(body, authorization)
                await asyncio.gather(*(self._call(record, s, body, headers) for s in sellers))
            record.state = "done"
        finally:
            elapsed = time.perf_counter() - started
            record.latency_ms = round(elapsed * 1000, 3)
            self.metrics.observe_fanout(elapsed)
            await self.stats.finish(record)
            event(
                "search.done",
                transaction_id=record.transaction_id,
                message_id=record.message_id,
                bap_id=record.bap_id,
                domain=record.domain,
                city=record.city,
                state=record.state,
                targeted=record.targeted,
                acked=record.acked,
                nacked=record.nacked,
                failed=record.failed,
                latency_ms=record.latency_ms,
            )

    def _target(self, url: str) -> Target:
        target = self._targets.get(url)
        if target is None:
            target = self.transport.target(url.rstrip("/") + "/" + ACTION)
            if len(self._targets) > 50_000:
                self._targets.clear()
            self._targets[url] = target
        return target

    async def _call(
        self,
        record: SearchRecord,
        seller: SubscriberRecord,
        body: bytes,
        headers: Mapping[str, str],
    ) -> None:
        url = seller.url or ""
        outcome = SellerOutcome(seller.subscriber_id, url, "ERROR")
        http_status: int | None = None
        content = b""
        async with self._semaphore:
            self._calls_in_flight += 1
            started = time.perf_counter()
            try:
                target = self._target(url)
                data = self.transport.prepare(target, body, headers)
                async with asyncio.timeout(self.settings.seller_timeout):
                    while True:
                        try:
                            http_status, content = await self.transport.send(target, data)
                            break
                        except ConnectionFailed:
                            if outcome.attempts >= 2:
                                raise
                            outcome.attempts += 1
                            self.metrics.inc("gateway_seller_retries_total")
                            await asyncio.sleep(RETRY_DELAY)
            except CALL_FAILURES as exc:
                outcome.status, outcome.error = _seller_failure(exc)
            else:
                status, error = read_ack(http_status, content)
                outcome.status = status
                outcome.http_status = http_status
                if error:
                    code = error.get("code")
                    outcome.error_code = str(code) if code is not None else None
                    outcome.error = str(error.get("message", ""))[:200] or None
            finally:
                self._calls_in_flight -= 1
            outcome.latency_ms = round((time.perf_counter() - started) * 1000, 3)
        record.add(outcome)
        self.metrics.inc("gateway_seller_calls_total", status=outcome.status.lower())
        if self.transcript is not None:
            self.transcript.outbound(
                url.rstrip("/") + "/" + ACTION,
                ACTION,
                headers,
                body,
                CallResult(
                    url,
                    ACTION,
                    "ACK"
                    if outcome.status == "ACK"
                    else outcome.status.replace("TIMEOUT", "ERROR"),  # type: ignore[arg-type]
                    outcome.http_status,
                    outcome.latency_ms / 1000,
                    {"code": outcome.error_code or "network", "message": outcome.error or ""}
                    if outcome.status != "ACK"
                    else None,
                ),
            )

    # --- life cycle and operator views --------------------------------------------------------

    @property
    def searches_in_flight(self) -> int:
        return len(self._tasks)

    @property
    def calls_in_flight(self) -> int:
        return self._calls_in_flight

    async def drain(self, timeout: float | None = None) -> None:
        """Wait for the multicasts under way (tests, shutdown)."""
        tasks = list(self._tasks)
        if tasks:
            await asyncio.wait(tasks, timeout=timeout)

    async def aclose(self) -> None:
        await self.drain(self.settings.seller_timeout + 1)
        for task in list(self._tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self.transport.close()
        await self.lookup.aclose()
        await self.replay_guard.aclose()
        await self.stats.aclose()
        if self.transcript is not None:
            await asyncio.to_thread(self.transcript.close)

    def health(self) -> dict[str, Any]:
        return {
            "status": "ok",
            "subscriber_id": self.identity.subscriber_id,
            "key_id": self.identity.key_id,
            "uptime_s": round(time.time() - self.started_at, 1),
            "searches_in_flight": self.searches_in_flight,
            "seller_calls_in_flight": self.calls_in_flight,
            "searches_kept": len(self.stats),
        }

    def render_metrics(self) -> str:
        self.metrics.set("gateway_searches_in_flight", self.searches_in_flight)
        self.metrics.set("gateway_seller_calls_in_flight", self.calls_in_flight)
        stats = self.lookup.stats
        self.metrics.set("gateway_lookup_cache_total", stats.hits, result="hit")
        self.metrics.set("gateway_lookup_cache_total", stats.misses, result="miss")
        return self.metrics.render()


def _seller_failure(exc: BaseException) -> tuple[str, str]:
    """A seller call's failure (:func:`~reseau_poles.network.outbound.call_failure`) as the
    search's statistics show it: TIMEOUT, or ERROR with what happened."""
    failure = call_failure(exc)
    if failure.kind is FailureKind.TIMEOUT:
        return "TIMEOUT", failure.message
    if failure.kind in (FailureKind.CONNECT, FailureKind.FORBIDDEN):
        return "ERROR", str(failure.cause)
    return "ERROR", f"réponse invalide : {failure.cause}"


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    return value if value is not None else headers.get(name.lower())


def _bad_request(
    message: str, path: str, *, code: ErrorCode = ErrorCode.GATEWAY_INVALID_REQUEST
) -> Refusal:
    return Refusal(ProtocolError(message, code=code, path=path), status_code=400)

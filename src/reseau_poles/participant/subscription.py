"""A node joins the network: ``reseau-poles seller subscribe`` / ``reseau-poles buyer subscribe``.

From the node's own settings (``subscriber_id``, ``public_url``, ``domain``, ``regions``,
``country``, keys in ``key_dir``, ``registry_url``) the node's record is signed and posted to
the registry (:func:`reseau_poles.network.registry_client.subscribe`, the same call as the gateway's
self-registration). The registry then posts a sealed challenge to ``{public_url}/on_subscribe``:
the node must be running and reachable there, since the challenge is answered by the running
node (``create_node_app``), not by this command.

Every outcome is an :class:`Outcome` with a French sentence saying what happened and, for a
refusal, what to do; the CLI prints it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from reseau_poles.keystore import KeyFiles
from reseau_poles.protocol.errors import ErrorCode, KeyFormatError
from reseau_poles.protocol.keys import SubscriberKeys

from .settings import NodeSettings

SUBSCRIBED = "SUBSCRIBED"
UNDER_SUBSCRIPTION = "UNDER_SUBSCRIPTION"


@dataclass(frozen=True)
class Outcome:
    """What the registry said. ``ok``: SUBSCRIBED or UNDER_SUBSCRIPTION; otherwise ``code``
    is the registry's error code (or ``config``, ``unreachable``, ``keys``) and ``advice``
    says what to do."""

    ok: bool
    status: str | None
    message: str
    advice: str = ""
    code: str | None = None
    path: str | None = None
    action: str | None = None
    key_id: str | None = None


def _advice(code: str, settings: NodeSettings, serve_command: str, path: str | None) -> str:
    challenge_url = f"{settings.public_url.rstrip('/')}/on_subscribe"
    rotate = serve_command.replace(" serve", " rotate-key", 1).split(" --config")[0]
    by_code = {
        # The registry gives one answer whatever went wrong (unreachable, error, wrong answer).
        ErrorCode.REGISTRY_CHALLENGE_FAILED.value: (
            f"Le défi du registre n'a pas reçu la bonne réponse à {challenge_url} (le registre "
            "ne dit pas pourquoi : injoignable, erreur ou mauvaise réponse). Démarrez d'abord "
            f"le nœud ({serve_command}), avec ces mêmes réglages et ces mêmes clés, puis "
            "relancez cette commande ; public_url doit mener à lui et non à un autre service, "
            "à une adresse que le registre joint (pas 127.0.0.1 si le registre est sur une "
            "autre machine)."
        ),
        ErrorCode.REGISTRY_UNREACHABLE.value: (
            f"Le registre n'a pas pu joindre {challenge_url} pour y poster son défi. Démarrez "
            f"d'abord le nœud ({serve_command}), puis relancez cette commande ; public_url doit "
            "être l'adresse où le registre joint ce nœud (pas 127.0.0.1 si le registre est "
            "sur une autre machine)."
        ),
        ErrorCode.REGISTRY_INVALID_SIGNATURE.value: (
            "Signature refusée : vérifiez l'heure de cette machine (NTP) et le dossier des "
            f"clés ({settings.key_dir}). Une clé révoquée ou expirée ne peut plus rien signer : "
            f"créez-en une nouvelle ({rotate} --offline) et faites-la enregistrer par "
            "l'opérateur du réseau (reseau-poles registry admin add-key "
            f"{settings.subscriber_id} --keys-json keys.json)."
        ),
        ErrorCode.REGISTRY_DUPLICATE_KEY.value: (
            "Ce key_id est déjà enregistré avec d'autres clés publiques, ou a été révoqué : "
            "générez une nouvelle clé sous un nouveau key_id (reseau-poles keys generate) et "
            "faites-la signer par la clé encore valide (reseau-poles registry subscribe, "
            "sign_with)."
        ),
        ErrorCode.REGISTRY_FORBIDDEN.value: (
            f"{settings.subscriber_id} est déjà inscrit avec une autre clé : une mise à jour doit "
            "être signée par une clé déjà enregistrée. Reprenez l'ancien dossier de clés "
            f"(key_dir) et changez de clé avec « {rotate} » ; si l'ancienne clé est perdue, "
            "révoquée ou expirée, envoyez keys.json (clés publiques) à l'opérateur du réseau, "
            "qui l'enregistre : reseau-poles registry admin add-key "
            f"{settings.subscriber_id} --keys-json keys.json."
        ),
        ErrorCode.REGISTRY_INVALID_STATE.value: (
            "Seul l'opérateur du réseau peut réactiver ce participant : communiquez avec lui."
        ),
        ErrorCode.REGISTRY_INVALID_REQUEST.value: (
            "Corrigez ce réglage dans le fichier de configuration du nœud"
            + (f" (champ « {path} » de l'inscription)" if path else "")
            + " : subscriber_id, public_url, domain, regions (QC-01 … QC-17 ou *), country."
        ),
    }
    return by_code.get(code, "Voir le message du registre ci-dessus.")


def node_keys(settings: NodeSettings) -> SubscriberKeys:
    """The node's keys, as the running node loads them (made at first run)."""
    return KeyFiles(settings.key_dir).load_or_generate(settings.subscriber_id)


def node_health(settings: NodeSettings, timeout: float = 3.0) -> str | None:
    """``None`` when ``{public_url}/health`` answers as this node; otherwise why not."""
    url = f"{settings.public_url.rstrip('/')}/health"
    try:
        response = httpx.get(url, timeout=timeout)
    except httpx.HTTPError as exc:
        return f"{url} ne répond pas ({type(exc).__name__})"
    if response.status_code != 200:
        return f"{url} a répondu HTTP {response.status_code}"
    try:
        who = response.json().get("subscriber_id")
    except (ValueError, AttributeError):
        who = None
    if who != settings.subscriber_id:
        return f"{url} répond au nom de {who!r}, pas de {settings.subscriber_id!r}"
    return None


def subscribe_node(
    settings: NodeSettings,
    beckn_type: str,
    *,
    serve_command: str = "reseau-poles … serve",
    timeout: float = 30.0,
) -> Outcome:
    """Subscribe the node (or update its subscription) from its settings."""
    from reseau_poles.network.registry_client import RegistryRefusal, subscribe, unreachable

    if not settings.registry_url:
        return Outcome(
            False,
            None,
            "registry_url n'est pas configuré : le nœud ne sait pas où est le registre.",
            "Ajoutez registry_url au fichier de configuration (ou RESEAU_POLES_REGISTRY_URL, "
            "ou --registry).",
            code="config",
        )
    try:
        keys = node_keys(settings)
    except (KeyFormatError, OSError) as exc:
        return Outcome(
            False,
            None,
            f"clés illisibles dans {settings.key_dir} : {exc}",
            "Vérifiez key_dir ; le nœud les crée à son premier démarrage.",
            code="keys",
        )
    try:
        answer = subscribe(
            settings.registry_url,
            keys,
            url=settings.public_url.rstrip("/"),
            type=beckn_type,
            domains=[settings.domain],
            regions=list(settings.regions),
            country=settings.country,
            timeout=timeout,
        )
    except RegistryRefusal as exc:
        path = exc.path if isinstance(exc.path, str) else None
        if isinstance(exc.path, list) and exc.path:
            path = ", ".join(str(p) for p in exc.path)
        return Outcome(
            False,
            None,
            f"inscription refusée par le registre (HTTP {exc.status}, code {exc.code}) : "
            f"{exc.message}",
            _advice(exc.code, settings, serve_command, path),
            code=exc.code,
            path=path,
            key_id=keys.key_id,
        )
    except httpx.HTTPError as exc:
        return Outcome(
            False,
            None,
            unreachable(settings.registry_url, exc),
            "Vérifiez registry_url et que le registre est démarré.",
            code="unreachable",
            key_id=keys.key_id,
        )
    status = str(answer.get("status") or "?")
    action = answer.get("action")
    if status == SUBSCRIBED:
        message = f"{settings.subscriber_id} est inscrit (SUBSCRIBED) : il est sur le réseau."
    elif status == UNDER_SUBSCRIPTION:
        message = (
            f"{settings.subscriber_id} attend l'approbation de l'opérateur du réseau "
            "(UNDER_SUBSCRIPTION) : il n'apparaît pas encore dans les recherches."
        )
    else:
        message = f"{settings.subscriber_id} : statut {status}."
    return Outcome(True, status, message, action=action, key_id=keys.key_id)


def is_listed(settings: NodeSettings, key_id: str | None, timeout: float = 5.0) -> bool:
    """Whether the registry's lookup (which lists SUBSCRIBED participants only) has us, with
    ``key_id`` when given."""
    from reseau_poles.network.registry_client import lookup

    assert settings.registry_url
    records = lookup(settings.registry_url, subscriber_id=settings.subscriber_id, timeout=timeout)
    if not isinstance(records, list):
        return False
    return any(
        isinstance(r, dict)
        and str(r.get("subscriber_id", "")).lower() == settings.subscriber_id.lower()
        and (key_id is None or r.get("key_id") in (None, key_id))
        for r in records
    )


def wait_until_subscribed(
    settings: NodeSettings,
    key_id: str | None,
    *,
    timeout: float,
    interval: float = 2.0,
    tick: Callable[[float], None] | None = None,
) -> bool:
    """Poll the registry's lookup until we are listed (the operator approved), or
    ``timeout`` seconds passed. ``tick(elapsed)`` is called between polls."""
    started = time.monotonic()
    while True:
        try:
            if is_listed(settings, key_id):
                return True
        except (httpx.HTTPError, ValueError):
            pass  # the registry restarting: keep waiting
        elapsed = time.monotonic() - started
        if elapsed >= timeout:
            return False
        if tick is not None:
            tick(elapsed)
        time.sleep(min(interval, max(timeout - elapsed, 0.01)))

"""The checks of a synchronous answer: an ACK exactly as Beckn writes it, or a NACK with a 4xx
status, an error code and a reason."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from ..report import Finding
from .exchange import Sent

ACK_BODY = {"message": {"ack": {"status": "ACK"}}}


def ack_findings(
    sent: Sent, expect: str, codes: Iterable[str] = (), statuses: Iterable[int] = ()
) -> list[Finding]:
    """The answer to ``sent``: ``expect`` is ``ACK`` (200, exactly the ACK body) or ``NACK``
    (4xx, ``message.ack.status`` NACK, an ``error`` with a ``code`` among ``codes`` when
    given, a ``message``)."""
    if sent.status is None:
        return [
            Finding(
                f"Pas de réponse : {sent.error}.",
                f"No answer: {sent.error}.",
                message=sent.name,
                expected=expect,
            )
        ]
    try:
        body = json.loads(sent.answer)
    except ValueError:
        body = None
    shown = sent.answer[:300].decode("utf-8", "replace")
    if expect == "ACK":
        findings = []
        if sent.status != 200:
            findings.append(
                Finding(
                    "ACK attendu avec HTTP 200.",
                    "ACK expected with HTTP 200.",
                    message=sent.name,
                    expected="HTTP 200",
                    got=f"HTTP {sent.status} {shown}",
                )
            )
        elif _ack_status(body) != "ACK":
            findings.append(
                Finding(
                    "Corps d'ACK inattendu.",
                    "Unexpected ACK body.",
                    message=sent.name,
                    path="message.ack.status",
                    expected=ACK_BODY,
                    got=shown,
                )
            )
        return findings
    findings = []
    wanted = set(statuses) or set(range(400, 500))
    if sent.status not in wanted:
        findings.append(
            Finding(
                "NACK attendu avec un statut HTTP 4xx."
                if sent.status < 300 or not statuses
                else "Statut HTTP inattendu pour ce NACK.",
                "NACK expected with an HTTP 4xx status."
                if sent.status < 300 or not statuses
                else "Unexpected HTTP status for this NACK.",
                message=sent.name,
                expected=f"HTTP {' | '.join(str(s) for s in sorted(wanted))}"
                if statuses
                else "HTTP 4xx",
                got=f"HTTP {sent.status} {shown}",
            )
        )
        if sent.status < 300:
            return findings
    if _ack_status(body) != "NACK":
        findings.append(
            Finding(
                "Le refus doit porter message.ack.status = NACK.",
                "A refusal must carry message.ack.status = NACK.",
                message=sent.name,
                path="message.ack.status",
                expected="NACK",
                got=shown,
            )
        )
        return findings
    error = body.get("error") if isinstance(body, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    if not isinstance(code, str) or not code.isdigit():
        findings.append(
            Finding(
                "Le NACK doit porter error.code (chaîne de chiffres, série Beckn).",
                "A NACK must carry error.code (a string of digits, Beckn series).",
                message=sent.name,
                path="error.code",
                got=code,
            )
        )
    elif codes and code not in set(codes):
        findings.append(
            Finding(
                "Code d'erreur inattendu pour ce refus.",
                "Unexpected error code for this refusal.",
                message=sent.name,
                path="error.code",
                expected=sorted(set(codes)),
                got=code,
            )
        )
    if isinstance(error, dict) and not isinstance(error.get("message"), str):
        findings.append(
            Finding(
                "Le NACK devrait dire pourquoi (error.message).",
                "A NACK should say why (error.message).",
                message=sent.name,
                path="error.message",
                got=error.get("message"),
            )
        )
    return findings


def _ack_status(body: Any) -> Any:
    try:
        return body["message"]["ack"]["status"]
    except (KeyError, TypeError):
        return None

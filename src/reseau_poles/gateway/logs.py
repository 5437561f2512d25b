"""Structured logs: one JSON object (or ``key=value`` line) per event, always with the
search's ``transaction_id`` and ``message_id`` when there is one."""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

log = logging.getLogger("reseau_poles.gateway")

_RESERVED = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "event": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _RESERVED and not key.startswith("_"):
                data[key] = value
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False, default=str)


class KeyValueFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        parts = [
            time.strftime("ts=%Y-%m-%dT%H:%M:%SZ", time.gmtime(record.created)),
            f"level={record.levelname.lower()}",
            f"event={record.getMessage()}",
        ]
        for key, value in record.__dict__.items():
            if key not in _RESERVED and not key.startswith("_"):
                text = str(value)
                parts.append(f"{key}={json.dumps(text) if ' ' in text else text}")
        return " ".join(parts)


def configure(level: str = "INFO", fmt: str = "json") -> None:
    """Send the gateway's logs to stderr in the chosen format (idempotent)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else KeyValueFormatter())
    log.handlers[:] = [handler]
    log.setLevel(level.upper())
    log.propagate = False


def event(name: str, level: int = logging.INFO, **fields: Any) -> None:
    if log.isEnabledFor(level):
        log.log(level, name, extra=fields)

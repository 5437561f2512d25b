"""Structured logs: one JSON object (or ``key=value`` line) per event on stderr, always with
the search's ``transaction_id`` and ``message_id`` when there is one.

Written directly, not through :mod:`logging`: a LogRecord, its formatter and handler cost
about 60 µs, as much as verifying the buyer's signature, and the gateway logs every search.
Unexpected errors still go through :mod:`logging` (with their traceback).
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
import time
from typing import Any, TextIO

_LEVELS = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40, "CRITICAL": 50}
_NAMES = {value: name.lower() for name, value in _LEVELS.items()}


class _Config:
    level = logging.INFO
    json = True
    stream: TextIO | None = None


def configure(level: str = "INFO", fmt: str = "json", stream: TextIO | None = None) -> None:
    """Level (DEBUG … CRITICAL), format (``json`` or ``kv``) and stream (stderr)."""
    _Config.level = _LEVELS.get(level.upper(), logging.INFO)
    _Config.json = fmt != "kv"
    _Config.stream = stream
    logging.getLogger("reseau_poles.gateway").setLevel(_Config.level)


def enabled(level: int = logging.INFO) -> bool:
    return level >= _Config.level


def _timestamp(now: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}Z"


def format_event(name: str, level: int, fields: dict[str, Any], now: float) -> str:
    if _Config.json:
        data = {"ts": _timestamp(now), "level": _NAMES.get(level, str(level)), "event": name}
        data.update(fields)
        return json.dumps(data, ensure_ascii=False, default=str)
    parts = [f"ts={_timestamp(now)}", f"level={_NAMES.get(level, level)}", f"event={name}"]
    for key, value in fields.items():
        text = "" if value is None else str(value)
        parts.append(f"{key}={json.dumps(text, ensure_ascii=False) if ' ' in text else text}")
    return " ".join(parts)


def event(name: str, level: int = logging.INFO, **fields: Any) -> None:
    if level < _Config.level:
        return
    stream = _Config.stream or sys.stderr
    # a closed or full stream never breaks a search
    with contextlib.suppress(OSError, ValueError):
        stream.write(format_event(name, level, fields, time.time()) + "\n")

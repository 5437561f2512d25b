"""The demo's transcript: each node's JSONL merged in time order, protocol messages only."""

from __future__ import annotations

import json

from reseau_poles.demo.run import merge_transcripts


def _line(at: str, url: str, action: str, direction: str = "in") -> str:
    entry = {
        "recorded_at": at,
        "direction": direction,
        "action": action,
        "url": url,
        "headers": {"x-api-key": "rpa_secret"} if "/api/" in url else {},
        "body": "{}",
    }
    return json.dumps(entry) + "\n"


def test_merged_in_time_order_without_client_api_calls(tmp_path):
    folder = tmp_path / "noeuds"
    folder.mkdir()
    (folder / "acheteur.jsonl").write_text(
        _line("2026-11-26T08:00:00.300Z", "/on_search", "on_search")
        + _line("2026-11-26T08:00:00.100Z", "/api/searches", "searches")
        + _line("2026-11-26T08:00:00.150Z", "http://127.0.0.1:1/search", "search", "out")
        + "\n",
        "utf-8",
    )
    (folder / "vendeur-1.jsonl").write_text(
        _line("2026-11-26T08:00:00.200Z", "/search", "search")
        + _line("2026-11-26T07:59:00.000Z", "/on_subscribe", "on_subscribe"),
        "utf-8",
    )
    target = tmp_path / "sortie" / "messages.jsonl"
    assert merge_transcripts(folder, target) == 3
    merged = [json.loads(line) for line in target.read_text("utf-8").splitlines()]
    assert [(e["node"], e["action"]) for e in merged] == [
        ("acheteur", "search"),
        ("vendeur-1", "search"),
        ("acheteur", "on_search"),
    ]
    assert "rpa_secret" not in target.read_text("utf-8")  # API keys never reach the file


def test_no_node_files_gives_an_empty_transcript(tmp_path):
    target = tmp_path / "messages.jsonl"
    assert merge_transcripts(tmp_path, target) == 0
    assert target.read_text("utf-8") == ""

"""A conformance report: checks, their outcome and findings; rendered as text (fr or en) and
as JSON for a CI. No I/O.

Each check has a stable ``id`` (``signature.rappels``), a title in French and in English, an
outcome (``pass``, ``fail``, ``skip``) and, when it failed or was skipped, findings: which
message, which JSON path, what was expected and what came, and for a signature, the signing
string and the digest the tester computed (so the vendor sees exactly what to sign).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

REPORT_VERSION = 1


class Outcome(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    SKIP = "skip"


@dataclass(frozen=True)
class CheckSpec:
    """What a check verifies: its id and its titles in both languages."""

    id: str
    title_fr: str
    title_en: str

    def title(self, lang: str) -> str:
        return self.title_en if lang == "en" else self.title_fr


@dataclass
class Finding:
    """One thing wrong (or the reason for a skip). ``message`` is the message concerned
    (``on_select``, ``POST /select``); ``text_fr`` / ``text_en`` say what is wrong."""

    text_fr: str
    text_en: str | None = None
    message: str | None = None
    path: str | None = None
    expected: Any = None
    got: Any = None
    signing_string: str | None = None
    digest: str | None = None
    hints: list[str] = field(default_factory=list)

    def text(self, lang: str) -> str:
        return (self.text_en or self.text_fr) if lang == "en" else self.text_fr

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"text_fr": self.text_fr, "text_en": self.text_en or self.text_fr}
        for name in ("message", "path", "expected", "got", "signing_string", "digest"):
            value = getattr(self, name)
            if value is not None:
                data[name] = value
        if self.hints:
            data["hints"] = list(self.hints)
        return data


@dataclass
class CheckResult:
    spec: CheckSpec
    outcome: Outcome
    findings: list[Finding] = field(default_factory=list)
    seconds: float = 0.0
    # How many messages or cases the check looked at (shown when it passed).
    looked_at: int | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.spec.id,
            "title_fr": self.spec.title_fr,
            "title_en": self.spec.title_en,
            "outcome": self.outcome.value,
            "seconds": round(self.seconds, 3),
            "findings": [f.to_dict() for f in self.findings],
        }
        if self.looked_at is not None:
            data["looked_at"] = self.looked_at
        return data


@dataclass
class Report:
    """Every check of one run against one node."""

    role: str  # what was tested: "seller" (a BPP) or "buyer" (a BAP)
    target: str  # the node's subscriber id
    tester: str  # the tester's own subscriber id
    registry_url: str
    started_at: str
    results: list[CheckResult] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return all(r.outcome is Outcome.PASS for r in self.results) and bool(self.results)

    def count(self, outcome: Outcome) -> int:
        return sum(1 for r in self.results if r.outcome is outcome)

    def result(self, check_id: str) -> CheckResult:
        for result in self.results:
            if result.spec.id == check_id:
                return result
        raise KeyError(check_id)

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": REPORT_VERSION,
            "role": self.role,
            "target": self.target,
            "tester": self.tester,
            "registry_url": self.registry_url,
            "started_at": self.started_at,
            "seconds": round(self.seconds, 3),
            "ok": self.ok,
            "summary": {o.value: self.count(o) for o in Outcome},
            "checks": [r.to_dict() for r in self.results],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2) + "\n"


_WORDS = {
    "fr": {
        Outcome.PASS: "RÉUSSI",
        Outcome.FAIL: "ÉCHEC",
        Outcome.SKIP: "SAUTÉ",
        "seller": "nœud vendeur (BPP)",
        "buyer": "nœud acheteur (BAP)",
        "title": "Conformité de {target}, {role}",
        "tester": "testeur : {tester} ; registre : {registry}",
        "message": "message",
        "path": "chemin",
        "expected": "attendu",
        "got": "reçu",
        "signing_string": "chaîne signée (recalculée par le testeur)",
        "digest": "condensé",
        "summary": "{passed} réussi(s), {failed} échec(s), {skipped} sauté(s) en {seconds:.1f} s",
        "verdict_ok": "Conforme : toutes les vérifications ont réussi.",
        "verdict_ko": "Non conforme.",
        "looked_at": "{n} cas",
    },
    "en": {
        Outcome.PASS: "PASS",
        Outcome.FAIL: "FAIL",
        Outcome.SKIP: "SKIP",
        "seller": "seller node (BPP)",
        "buyer": "buyer node (BAP)",
        "title": "Conformance of {target}, {role}",
        "tester": "tester: {tester}; registry: {registry}",
        "message": "message",
        "path": "path",
        "expected": "expected",
        "got": "got",
        "signing_string": "signing string (recomputed by the tester)",
        "digest": "digest",
        "summary": "{passed} passed, {failed} failed, {skipped} skipped in {seconds:.1f} s",
        "verdict_ok": "Conformant: every check passed.",
        "verdict_ko": "Not conformant.",
        "looked_at": "{n} case(s)",
    },
}


def _shown(value: Any, limit: int = 300) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render_text(report: Report, lang: str = "fr") -> str:
    """The report for a person, in French (``fr``) or English (``en``)."""
    words = _WORDS["en" if lang == "en" else "fr"]
    lines = [
        words["title"].format(target=report.target, role=words[report.role]),
        words["tester"].format(tester=report.tester, registry=report.registry_url),
        "",
    ]
    for result in report.results:
        mark = words[result.outcome]
        extra = ""
        if result.outcome is Outcome.PASS and result.looked_at:
            extra = f" ({words['looked_at'].format(n=result.looked_at)})"
        lines.append(f"[{mark}] {result.spec.id} — {result.spec.title(lang)}{extra}")
        for finding in result.findings:
            lines.extend(_finding_lines(finding, words, lang))
    lines.append("")
    lines.append(
        words["summary"].format(
            passed=report.count(Outcome.PASS),
            failed=report.count(Outcome.FAIL),
            skipped=report.count(Outcome.SKIP),
            seconds=report.seconds,
        )
    )
    lines.append(words["verdict_ok"] if report.ok else words["verdict_ko"])
    return "\n".join(lines) + "\n"


def _finding_lines(finding: Finding, words: dict[Any, str], lang: str) -> Iterable[str]:
    yield f"    - {finding.text(lang)}"
    for name in ("message", "path"):
        value = getattr(finding, name)
        if value is not None:
            yield f"      {words[name]} : {value}" if lang != "en" else f"      {name}: {value}"
    for name in ("expected", "got"):
        value = getattr(finding, name)
        if value is not None:
            label = words[name]
            yield (
                f"      {label} : {_shown(value)}"
                if lang != "en"
                else f"      {label}: {_shown(value)}"
            )
    if finding.signing_string is not None:
        label = words["signing_string"]
        yield f"      {label} :" if lang != "en" else f"      {label}:"
        for line in finding.signing_string.split("\n"):
            yield f"        {line}"
    if finding.digest is not None:
        label = words["digest"]
        yield (
            f"      {label} : {finding.digest}"
            if lang != "en"
            else f"      {label}: {finding.digest}"
        )
    for hint in finding.hints:
        yield f"      • {hint}"

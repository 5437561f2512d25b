"""Gathering findings check by check while a scenario runs, then the report. No I/O."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from .report import CheckResult, CheckSpec, Finding, Outcome, Report


class Collector:
    """Findings per check, in the order of ``specs``. A check with findings fails; one that
    looked at something and found nothing passes; one that never ran is skipped with the
    reason given to :meth:`skip` (or « not evaluated »)."""

    def __init__(self, specs: Sequence[CheckSpec]) -> None:
        self.specs = list(specs)
        self.findings: dict[str, list[Finding]] = {s.id: [] for s in specs}
        self.looked: dict[str, int] = {s.id: 0 for s in specs}
        self.skipped: dict[str, Finding] = {}
        self.started = time.monotonic()
        self.started_at = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")

    def add(self, spec: CheckSpec, findings: Iterable[Finding] = (), looked_at: int = 1) -> None:
        self.findings[spec.id].extend(findings)
        self.looked[spec.id] += looked_at

    def skip(self, spec: CheckSpec, fr: str, en: str) -> None:
        self.skipped.setdefault(spec.id, Finding(fr, en))

    def skip_rest(self, fr: str, en: str) -> None:
        """Every check not evaluated yet is skipped for this reason."""
        for spec in self.specs:
            if not self.looked[spec.id] and not self.findings[spec.id]:
                self.skip(spec, fr, en)

    def report(self, *, role: str, target: str, tester: str, registry_url: str) -> Report:
        results = []
        for spec in self.specs:
            findings = self.findings[spec.id]
            if findings:
                outcome = Outcome.FAIL
            elif self.looked[spec.id]:
                outcome = Outcome.PASS
            else:
                outcome = Outcome.SKIP
                findings = [
                    self.skipped.get(spec.id)
                    or Finding("Non évaluée dans ce parcours.", "Not evaluated in this run.")
                ]
            results.append(
                CheckResult(spec, outcome, list(findings), looked_at=self.looked[spec.id] or None)
            )
        return Report(
            role=role,
            target=target,
            tester=tester,
            registry_url=registry_url,
            started_at=self.started_at,
            results=results,
            seconds=time.monotonic() - self.started,
        )

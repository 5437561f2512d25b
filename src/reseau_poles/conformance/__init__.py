"""``reseau-poles conformance``: a tester that plays the counterpart of a vendor's node and
reports, check by check, in French and English, with a JSON report for a CI.

* :mod:`.report` — checks, outcomes, findings; text (fr, en) and JSON (no I/O);
* :mod:`.checks` — the checks themselves, on bytes, headers and times (no I/O);
* :mod:`.explain` — why a signature fails: signing string and digest (no I/O);
* :mod:`.peer` — the tester as a participant: keys, server, registry, signed calls;
* :mod:`.seller` and :mod:`.buyer` — the scenarios against a seller or a buyer node.
"""

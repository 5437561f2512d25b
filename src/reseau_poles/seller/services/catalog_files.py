"""A pôle's products as a CSV file: the import (all rows or nothing, one import per pôle at a
time: :data:`.csv_import.GATE`) and the export (that re-imports identically)."""

from __future__ import annotations

from typing import IO

from sqlalchemy.orm import Session, sessionmaker

from reseau_poles.storage import read_session

from .csv_export import export_csv
from .csv_import import GATE, ImportGate, ImportReport, import_csv


class CatalogFiles:
    def __init__(self, factory: sessionmaker[Session], gate: ImportGate = GATE) -> None:
        self.factory = factory
        self.gate = gate

    def import_file(self, provider_id: str, body: IO[bytes], *, dry_run: bool) -> ImportReport:
        """Validate every row, then write them all or none (``dry_run``: validate only)."""
        return import_csv(self.factory, provider_id, body, dry_run=dry_run)

    def export(self, provider_id: str, *, delimiter: str, bom: bool = False) -> str:
        """The pôle's active products, by SKU, as CSV text (``bom``: starting with a byte
        order mark, so that Excel reads it as UTF-8)."""
        with read_session(self.factory) as session:
            return export_csv(session, provider_id, delimiter=delimiter, bom=bom)

"""Reading a submitted form without ever answering 500 or FastAPI's JSON: each field is read
as text, checked, and a refusal is a message (a catalogue key) beside its field, the form
shown again with what the person typed.

    form = await read_form(request)
    name = form.require("name", max_length=255)
    quantity = form.integer("quantity", minimum=1)
    if not form.ok:
        return render(request, "portail/panier.html", {"form": form}, status=400)

In the template, with the macros: ``{{ m.field(form, "name", t("champ.nom")) }}``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import Request

MAX_FIELD_LENGTH = 10_000


@dataclass
class Form:
    """A form's values (text; a repeated field's values in ``lists``) and its errors by field
    (a catalogue key each)."""

    values: dict[str, str] = field(default_factory=dict)
    lists: dict[str, list[str]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    def get(self, name: str, default: str = "") -> str:
        return self.values.get(name, default)

    def getlist(self, name: str) -> list[str]:
        return self.lists.get(name, [])

    def error(self, name: str, key: str) -> None:
        """Refuse field ``name`` with the message ``key`` (the first refusal stays)."""
        self.errors.setdefault(name, key)

    def require(self, name: str, *, max_length: int = 255) -> str:
        """The field, stripped; ``champ.requis`` when empty, ``champ.trop_long`` past
        ``max_length``."""
        value = self.get(name).strip()
        if not value:
            self.error(name, "champ.requis")
        elif len(value) > max_length:
            self.error(name, "champ.trop_long")
        return value

    def optional(self, name: str, *, max_length: int = 255) -> str | None:
        value = self.get(name).strip()
        if len(value) > max_length:
            self.error(name, "champ.trop_long")
        return value or None

    def integer(
        self,
        name: str,
        *,
        minimum: int | None = None,
        maximum: int | None = None,
        required: bool = True,
    ) -> int | None:
        """A whole number within bounds; ``champ.entier`` otherwise."""
        raw = self.get(name).strip()
        if not raw:
            if required:
                self.error(name, "champ.requis")
            return None
        if not raw.lstrip("-").isdigit() or len(raw) > 12:
            self.error(name, "champ.entier")
            return None
        value = int(raw)
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            self.error(name, "champ.hors_limites")
        return value

    def decimal(
        self, name: str, *, minimum: Decimal | None = None, required: bool = True
    ) -> Decimal | None:
        """A decimal number (``12,50`` or ``12.50``); ``champ.nombre`` otherwise."""
        raw = self.get(name).strip().replace("\u00a0", "").replace(" ", "").replace(",", ".")
        if not raw:
            if required:
                self.error(name, "champ.requis")
            return None
        try:
            value = Decimal(raw)
        except InvalidOperation:
            self.error(name, "champ.nombre")
            return None
        if not value.is_finite() or len(raw) > 20:
            self.error(name, "champ.nombre")
            return None
        if minimum is not None and value < minimum:
            self.error(name, "champ.hors_limites")
        return value

    def choice(self, name: str, allowed: Any, *, required: bool = True) -> str | None:
        value = self.get(name).strip()
        if not value:
            if required:
                self.error(name, "champ.requis")
            return None
        if value not in allowed:
            self.error(name, "champ.choix_invalide")
            return None
        return value


async def read_form(request: Request) -> Form:
    """The request's form (urlencoded or multipart; files left in ``request.form()``)."""
    form = Form()
    kind = request.headers.get("content-type", "")
    if not kind.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        return form
    data = await request.form()
    for key in data:
        texts = [v[:MAX_FIELD_LENGTH] for v in data.getlist(key) if isinstance(v, str)]
        if texts:
            form.values[key] = texts[0]
            form.lists[key] = texts
    return form

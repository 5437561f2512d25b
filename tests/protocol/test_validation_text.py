"""``french_message``: every pydantic error, whatever the input, becomes a French sentence
without raising; pydantic's English never comes through for the types it knows."""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any, Literal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import (
    AnyUrl,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)
from pydantic_core import PydanticCustomError, PydanticKnownError

from reseau_poles.buyer.requests import OrderIn, SiteIn
from reseau_poles.protocol.validation_text import _MESSAGES, french_message
from reseau_poles.seller.requests import ItemIn, ProviderIn

ENGLISH = ("Input should", "Field required", "Extra inputs", "should have", "Value error")


class Colour(Enum):
    ROUGE = "rouge"
    VERT = "vert"


class Inner(BaseModel):
    model_config = ConfigDict(extra="forbid")
    n: int


class Kitchen(BaseModel):
    """A model with one field of each kind pydantic refuses differently."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=2, max_length=5, pattern=r"^[a-z]+$")
    strict_text: Annotated[str, Field(strict=True)] = "a"
    count: int = Field(gt=0, lt=100)
    big: int = Field(ge=0, le=10, multiple_of=2)
    ratio: float = Field(allow_inf_nan=False)
    money: Decimal = Field(max_digits=5, decimal_places=2)
    flag: bool
    kind: Literal["a", "b", "c"]
    colour: Colour
    day: date
    moment: datetime
    hour: time = time(0)
    delay: timedelta = timedelta(0)
    ident: uuid.UUID | None = None
    link: AnyUrl | None = None
    tags: list[str] = Field(default_factory=list, min_length=0, max_length=2)
    pair: tuple[int, int] = (0, 0)
    seen: set[int] = Field(default_factory=set)
    table: dict[str, int] = Field(default_factory=dict)
    inner: Inner | None = None
    nothing: None = None
    own: int = 0
    custom: int = 0

    @field_validator("own")
    @classmethod
    def _own(cls, value: int) -> int:
        if value == 7:
            raise ValueError("sept est refusé ici")
        return value

    @field_validator("custom")
    @classmethod
    def _custom(cls, value: int) -> int:
        if value == 7:
            raise PydanticCustomError("sept_refuse", "sept est refusé (erreur maison)")
        return value


MODELS = [Kitchen, Inner, ItemIn, ProviderIn, OrderIn, SiteIn]
FIELDS = sorted({name for model in MODELS for name in model.model_fields} | {"inconnu"})

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**20), max_value=10**20)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from(["a", "rouge", "7", "2026-05-01", "2026-05-01T12:00:00Z", "QC-03", "12.50"]),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=12,
)
bodies = st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=len(FIELDS)) | json_values


def _check(error: dict[str, Any]) -> None:
    message = french_message(error)
    assert isinstance(message, str) and message.strip()
    kind = error["type"]
    if kind in _MESSAGES or kind in ("value_error", "json_invalid", "string_too_short"):
        assert not any(english in message for english in ENGLISH), (error, message)
    if kind == "value_error":
        assert message == error["msg"].removeprefix("Value error, ")


def _errors(model: type[BaseModel], body: Any) -> list[dict[str, Any]]:
    try:
        model.model_validate(body)
    except ValidationError as exc:
        return list(exc.errors())
    return []


@settings(max_examples=300, deadline=None)
@given(model=st.sampled_from(MODELS), body=bodies)
def test_every_error_of_a_random_body_is_translated(model: type[BaseModel], body: Any) -> None:
    for error in _errors(model, body):
        _check(dict(error))


@settings(max_examples=200, deadline=None)
@given(model=st.sampled_from(MODELS), raw=st.binary(max_size=40) | bodies.map(json.dumps))
def test_every_error_of_random_bytes_is_translated(model: type[BaseModel], raw: Any) -> None:
    try:
        model.model_validate_json(raw)
    except ValidationError as exc:
        for error in exc.errors():
            _check(dict(error))


@settings(max_examples=300, deadline=None)
@given(
    error=st.dictionaries(
        st.sampled_from(["type", "msg", "ctx", "loc", "input"]) | st.text(max_size=4),
        st.sampled_from(sorted(_MESSAGES)) | json_values | st.builds(object),
    )
)
def test_a_malformed_error_never_raises(error: dict[str, Any]) -> None:
    assert french_message(error).strip()


@pytest.mark.parametrize(
    ("body", "kind", "expected"),
    [
        ({"text": "A"}, "string_too_short", "trop court (au moins 2 caractères)"),
        ({"text": "abcdef"}, "string_too_long", "trop long (au plus 5 caractères)"),
        ({"text": "ABC"}, "string_pattern_mismatch", "format invalide"),
        ({"strict_text": 3}, "string_type", "texte attendu"),
        ({"count": "x"}, "int_parsing", "nombre entier attendu"),
        ({"count": 1.5}, "int_from_float", "nombre entier attendu"),
        ({"count": 0}, "greater_than", "doit être supérieur à 0"),
        ({"count": 100}, "less_than", "doit être inférieur à 100"),
        ({"big": -2}, "greater_than_equal", "doit être au moins 0"),
        ({"big": 12}, "less_than_equal", "doit être au plus 10"),
        ({"big": 3}, "multiple_of", "doit être un multiple de 2"),
        ({"ratio": "x"}, "float_parsing", "nombre attendu"),
        ({"money": "x"}, "decimal_parsing", "nombre attendu"),
        ({"money": "1.234"}, "decimal_max_places", "au plus 2 décimales"),
        ({"flag": "bof"}, "bool_parsing", "oui ou non attendu (booléen true ou false)"),
        ({"kind": "z"}, "literal_error", "valeur non permise (attendu : 'a', 'b' ou 'c')"),
        ({"colour": "bleu"}, "enum", "valeur non permise (attendu : 'rouge' ou 'vert')"),
        ({"day": "hier"}, "date_from_datetime_parsing", "date AAAA-MM-JJ attendue"),
        (
            {"moment": "demain"},
            "datetime_from_date_parsing",
            "date-heure RFC 3339 attendue, par ex. 2026-05-01T12:00:00Z",
        ),
        ({"tags": ["a", "b", "c"]}, "too_long", "trop d'éléments (au plus 2)"),
        ({"tags": "a"}, "list_type", "liste attendue"),
        ({"table": []}, "dict_type", "objet JSON attendu"),
        ({"inner": 3}, "model_type", "objet JSON attendu"),
        ({"inconnu": 1}, "extra_forbidden", "champ inconnu"),
        ({"own": 7}, "value_error", "sept est refusé ici"),
        ({"custom": 7}, "sept_refuse", "sept est refusé (erreur maison)"),
        ({}, "missing", "champ obligatoire absent"),
    ],
)
def test_each_common_type(body: dict[str, Any], kind: str, expected: str) -> None:
    errors = [error for error in _errors(Kitchen, body) if error["type"] == kind]
    assert errors, _errors(Kitchen, body)
    assert french_message(errors[0]) == expected


def test_invalid_json_gives_its_position() -> None:
    with pytest.raises(ValidationError) as caught:
        Kitchen.model_validate_json('{"text": ')
    assert french_message(caught.value.errors()[0]) == "JSON invalide (ligne 1, colonne 9)"


def test_an_unknown_builtin_type_keeps_pydantic_words_in_a_french_sentence() -> None:
    msg = PydanticKnownError("complex_str_parsing").message()
    error = {"type": "complex_str_parsing", "msg": msg, "loc": ()}
    assert french_message(error) == f"valeur invalide ({msg})"


def test_our_own_errors_keep_their_french_message() -> None:
    """The protocol's scalars raise ``decimal_type`` or ``date_type`` with a French message."""
    from reseau_poles.protocol.models.scalars import DecimalValue

    class Price(BaseModel):
        value: DecimalValue

    with pytest.raises(ValidationError) as caught:
        Price.model_validate({"value": 1.5})
    error = caught.value.errors()[0]
    assert error["type"] == "decimal_type"
    assert french_message(error) == error["msg"] and "décimal" in error["msg"]

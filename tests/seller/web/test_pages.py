"""Every page of the pôle in both languages: French by default, English after the switch,
never a catalogue key shown instead of its words; money and dates as each language writes
them."""

from __future__ import annotations

import re

import pytest

from tests.seller.support import SYRUP
from tests.seller.test_order_view import DAY

from .conftest import Pole

pytestmark = pytest.mark.anyio

PAGES = (
    "/gestion/produits",
    "/gestion/produits/nouveau",
    f"/gestion/produits/{SYRUP}/fiche",
    f"/gestion/produits/{SYRUP}/rapide",
    "/gestion/produits/import",
    "/gestion/commandes",
    f"/gestion/preparation?jour={DAY}",
    "/gestion/integrations",
)
RAW_KEY = re.compile(r"\bgestion\.(products|import|prep|integrations|formulaire)\.[a-z_.]+")


async def test_each_page_in_french_then_in_english(pole: Pole) -> None:
    order_id = pole.order()
    client = await pole.signed_in("coordination@capitale.example")
    for path in (*PAGES, f"/gestion/commandes/{order_id}"):
        french = await client.get(path)
        assert french.status_code == 200, path
        assert '<html lang="fr-CA">' in french.text, path
        assert not RAW_KEY.search(french.text), (path, RAW_KEY.search(french.text))
    switched = await client.get("/gestion/langue", params={"lang": "en", "suivant": "/gestion/"})
    assert switched.status_code == 303
    for path in (*PAGES, f"/gestion/commandes/{order_id}"):
        english = await client.get(path)
        assert english.status_code == 200, path
        assert '<html lang="en-CA">' in english.text, path
        assert not RAW_KEY.search(english.text), (path, RAW_KEY.search(english.text))
    products = await client.get("/gestion/produits")
    assert "Products" in products.text and "$12.50" in products.text
    orders = await client.get("/gestion/commandes")
    assert "Orders to prepare" in orders.text and "Mark “Packed”" in orders.text


@pytest.fixture(autouse=True)
def coordinator(pole: Pole) -> None:
    pole.add_user("coordination@capitale.example", ["gestion", "preparation", "admin"])

"""A search whose results were cut (each seller node sends one item per answer here): the
portal's results page says so, pôle by pôle, with what was found and what arrived, and its
« Demander la suite » asks those pôles for the rest, which then shows."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import pytest

from .conftest import World
from .portail_support import Person, add_person, eventually, quick_argon2  # noqa: F401


@pytest.fixture
def seller_overrides() -> dict[str, Any]:
    return {"on_search_max_items": 1}


def test_cut_results_are_said_and_the_rest_can_be_asked_for(
    world: World,
    quick_argon2: None,  # noqa: F811
) -> None:
    add_person(world.service.factory, "css-capitale", "eve@css-capitale.example", ["acheteur"])
    eve = Person(world.buyer_url, "eve@css-capitale.example").sign_in()
    try:
        started = eve.get("/portail/recherche", params={"text": "", "region": "QC-03"})
        results = started.headers["location"]

        def complete() -> str | None:
            page = unescape(eve.get(results).text)
            return page if "Recherche terminée" in page else None

        page = eventually(complete)
        assert "Résultats partiels" in page
        cut = re.search(r"Résultats partiels : (\d+) pôle\(s\)", page)
        assert cut and int(cut.group(1)) >= 1
        assert re.search(r"Pôle agroalimentaire de la Capitale : \d+ trouvés, 1 reçus", page)
        before = page.count('class="card offre"')

        asked = eve.post(f"{results.split('?')[0]}/suite", {"suivant": results})
        assert asked.status_code == 303 and asked.headers["location"] == results
        assert "La suite est demandée" in unescape(eve.get(results).text)

        def more() -> str | None:
            page = unescape(eve.get(results).text)
            return page if page.count('class="card offre"') > before else None

        assert eventually(more)
    finally:
        eve.close()

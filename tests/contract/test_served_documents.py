"""Each role serves at ``/openapi.json`` exactly the document committed in ``openapi/``
(examples, error answers and security schemes included), and its ``/docs`` and ``/redoc``
pages load only files the node serves itself."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest

from reseau_poles.openapi_export import ROLES, file_name

from .conftest import RunningRole

OPENAPI = Path(__file__).resolve().parents[2] / "openapi"


@pytest.mark.parametrize("role", ROLES)
def test_the_served_document_is_the_committed_one(roles: dict[str, RunningRole], role: str) -> None:
    response = httpx.get(f"{roles[role].url}/openapi.json", timeout=10)
    assert response.status_code == 200
    committed = json.loads((OPENAPI / file_name(role)).read_text("utf-8"))
    served = response.json()
    assert served == committed, (
        f"/openapi.json de {role} ≠ openapi/{file_name(role)} : lancez `make openapi`"
    )
    assert served["info"]["x-generated-by"]
    assert any(
        "examples" in media
        for item in served["paths"].values()
        for operation in item.values()
        for media in operation.get("requestBody", {}).get("content", {}).values()
    ), "le document servi n'a aucun exemple"


_URLS = re.compile(r"""(?:src|href|url)\s*[:=]\s*['"]([^'"]+)['"]""")


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("page", "assets"),
    [
        ("/docs", {"application/javascript", "text/javascript", "text/css", "image/png"}),
        ("/redoc", {"application/javascript", "text/javascript", "image/png"}),
    ],
)
def test_the_documentation_pages_work_offline(
    roles: dict[str, RunningRole], role: str, page: str, assets: set[str]
) -> None:
    base = roles[role].url
    with httpx.Client(base_url=base, timeout=10) as http:
        response = http.get(page)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        html = response.text
        assert "http://" not in html and "https://" not in html and "//cdn" not in html, html
        urls = set(_URLS.findall(html))
        assert "/openapi.json" in urls
        loaded = urls - {"/openapi.json"}
        assert any(url.endswith(".js") for url in loaded), urls
        for url in loaded:
            assert url.startswith("/"), url
            asset = http.get(url)
            assert asset.status_code == 200, url
            kind = asset.headers["content-type"].split(";")[0]
            if url.endswith((".js", ".css", ".png")):
                assert kind in assets, (url, kind)
                assert len(asset.content) > 1000, url

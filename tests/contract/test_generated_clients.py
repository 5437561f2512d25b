"""A client generated from each role's committed document by a real generator
(``openapi-python-client``) generates without a warning, imports, and makes one real call to
the running role: the document is a usable contract, not only a valid one.

``text/csv`` (the seller's import) is read as a file, the generator's own setting for a
content type it does not name (``content_type_overrides``)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from reseau_poles.openapi_export import ROLES, file_name

from .conftest import RunningRole

OPENAPI = Path(__file__).resolve().parents[2] / "openapi"
GENERATOR = "openapi-python-client"
CONFIG = "content_type_overrides:\n  text/csv: application/octet-stream\n"


def _generator() -> str:
    """The generator installed beside this Python (the dev dependencies), or on PATH."""
    beside = Path(sys.executable).parent / GENERATOR
    found = str(beside) if beside.exists() else shutil.which(GENERATOR)
    if found is None:
        reason = f"{GENERATOR} absent (pip install -e '.[dev]')"
        if os.environ.get("RESEAU_POLES_TEST_REQUIRE_SERVICES") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return found


@pytest.fixture(scope="module")
def clients(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, str]]:
    """Each role's client package: (folder holding it, generator output)."""
    generator = _generator()
    folder = tmp_path_factory.mktemp("clients")
    config = folder / "config.yml"
    config.write_text(CONFIG, "utf-8")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    made: dict[str, tuple[Path, str]] = {}
    for role in ROLES:
        run = subprocess.run(
            [
                generator,
                "generate",
                "--path",
                str(OPENAPI / file_name(role)),
                "--output-path",
                str(folder / f"client_{role}"),
                "--meta",
                "none",
                "--config",
                str(config),
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )
        output = run.stdout + run.stderr
        assert run.returncode == 0, output
        made[role] = (folder, output)
    return made


@pytest.mark.parametrize("role", ROLES)
def test_the_generator_has_nothing_to_say(clients: dict[str, tuple[Path, str]], role: str) -> None:
    _folder, output = clients[role]
    assert "warning" not in output.lower() and "error" not in output.lower(), output


# One real call per role, in a fresh interpreter that imports the generated package.
CALLS = {
    "registry": """
        from client_registry import Client
        from client_registry.api.default import lookup_lookup_post
        from client_registry.models import LookupLookupPostBody
        with Client(base_url=URL) as client:
            answer = lookup_lookup_post.sync_detailed(
                client=client, body=LookupLookupPostBody.from_dict({"type": "BPP"})
            )
        assert answer.status_code == 200, answer.content
        assert answer.parsed == [], answer.content
        with Client(base_url=URL) as client:
            from client_registry.api.default import registry_key_well_known_reseau_poles_registry_json_get as key
            from client_registry.models import RegistryRecord
            record = key.sync(client=client)
        assert isinstance(record, RegistryRecord) and record.type_ == "BREG", record
        assert len(record.signing_public_key) == 44, record
        print("ok")
    """,
    "gateway": """
        from client_gateway import Client
        from client_gateway.api.default import health_health_get
        from client_gateway.models import GatewayHealth
        with Client(base_url=URL) as client:
            health = health_health_get.sync(client=client)
        assert isinstance(health, GatewayHealth) and health.status == "ok", health
        assert health.searches_in_flight == 0 and health.key.key_id, health
        print("ok")
    """,
    "seller": """
        from client_seller import AuthenticatedClient
        from client_seller.api.gestion import list_products_api_providers_provider_id_products_get as listing
        from client_seller.models import ErrorAnswer, ProductPage
        with AuthenticatedClient(base_url=URL, token=KEY) as client:
            page = listing.sync(PROVIDER, client=client, limit=2)
            assert isinstance(page, ProductPage), page
            assert page.total >= 2 and page.limit == 2 and len(page.products) == 2, page
            assert all(p.active and p.sku for p in page.products), page
            other = listing.sync("pole-inconnu", client=client)
        assert isinstance(other, ErrorAnswer) and other.error.code == "acces_refuse", other
        print("ok")
    """,
    "buyer": """
        from client_buyer import AuthenticatedClient
        from client_buyer.api.sites_de_livraison import create_site_api_sites_post as create
        from client_buyer.api.sites_de_livraison import list_sites_api_sites_get as listing
        from client_buyer.models import CreateSiteApiSitesPostSiteIn as SiteIn, ErrorAnswer, Site, SiteList
        site = SiteIn.from_dict(
            {"name": "Cuisine centrale", "address": "1100, boul. X, Québec", "postal_code": "G1V 4E2"}
        )
        with AuthenticatedClient(base_url=URL, token=KEY) as client:
            made = create.sync_detailed(client=client, body=site)
            assert made.status_code == 201 and isinstance(made.parsed, Site), made.content
            assert made.parsed.postal_code == "G1V 4E2" and made.parsed.region == "QC-03", made
            sites = listing.sync(client=client)
            assert isinstance(sites, SiteList), sites
            assert [s.name for s in sites.sites] == ["Cuisine centrale"], sites
            refused = create.sync(client=client, body=SiteIn.from_dict({"name": "x", "address": ""}))
        assert isinstance(refused, ErrorAnswer) and refused.error.path == "address", refused
        print("ok")
    """,
}


@pytest.mark.parametrize("role", ROLES)
def test_the_generated_client_calls_the_running_role(
    clients: dict[str, tuple[Path, str]], roles: dict[str, RunningRole], role: str
) -> None:
    from tests.seller.support import CAPITALE

    folder, _output = clients[role]
    running = roles[role]
    script = (
        "import json, sys\n"
        f"sys.path.insert(0, {str(folder)!r})\n"
        f"URL, KEY, PROVIDER = {running.url!r}, {running.api_key!r}, {CAPITALE!r}\n"
        + textwrap.dedent(CALLS[role])
    )
    run = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert run.returncode == 0 and run.stdout.strip() == "ok", run.stdout + run.stderr

"""OpenAPI documents of each role, generated from the applications and kept in ``openapi/``.

Each role's application is built with its own ``create_app`` on a throwaway SQLite database
and a throwaway key folder (nothing listens, nothing is sent), and serves the completed
document (:mod:`reseau_poles.api_contract`: examples for the main calls of the client and
registry APIs, the error answers and security schemes, a note saying how the file was made),
which is written here. The protocol endpoints (``POST /{action}``, the gateway's ``POST /search``) come complete from
their own declaration, beside the pipeline that serves them
(:class:`reseau_poles.network.pipeline.ProtocolDocs`).

``make openapi`` (``reseau-poles openapi export``) rewrites the folder;
``reseau-poles openapi check`` and ``tests/test_openapi_drift.py`` fail when it drifts.
The text is stable: sorted keys, no absolute path, no port, no random id.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Final

from reseau_poles.api_contract import EXAMPLES, Example, placed_examples
from reseau_poles.generated import drifted_files, write_files

ROLES: Final = ("registry", "gateway", "seller", "buyer")
REGENERATE: Final = "make openapi"
# Settings the documents must not depend on: the addresses below never reach a socket.
_NOWHERE: Final = "http://registre.invalid"
_PUBLIC_URL: Final = "http://noeud.invalid"


class ExportError(RuntimeError):
    """A role's document could not be made; the message names the role."""


def file_name(role: str) -> str:
    return f"{role}.json"


# --- building the applications ------------------------------------------------------------------


def _build_registry(tmp: Path) -> Any:
    from reseau_poles.registry.app import create_app
    from reseau_poles.registry.settings import RegistrySettings

    settings = RegistrySettings(
        database_url=f"sqlite:///{tmp / 'registry.sqlite'}",
        auto_migrate=False,
        key_dir=tmp / "registry-keys",
        public_url=_PUBLIC_URL,
    )
    return create_app(settings)


def _build_gateway(tmp: Path) -> Any:
    from reseau_poles.gateway.app import create_app
    from reseau_poles.gateway.settings import GatewaySettings

    settings = GatewaySettings(
        key_dir=tmp / "gateway-keys",
        public_url=_PUBLIC_URL,
        registry_url=_NOWHERE,
        redis_url=None,
        transcript_path=None,
        log_level="WARNING",
    )
    return create_app(settings)


def _build_seller(tmp: Path) -> Any:
    from reseau_poles.seller.app import create_app
    from reseau_poles.seller.settings import SellerSettings

    settings = SellerSettings(
        database_url=f"sqlite:///{tmp / 'seller.sqlite'}",
        auto_migrate=False,
        key_dir=tmp / "seller-keys",
        public_url=_PUBLIC_URL,
        registry_url=_NOWHERE,
    )
    return create_app(settings)


def _build_buyer(tmp: Path) -> Any:
    from reseau_poles.buyer.app import create_app
    from reseau_poles.buyer.settings import BuyerSettings

    settings = BuyerSettings(
        database_url=f"sqlite:///{tmp / 'buyer.sqlite'}",
        auto_migrate=False,
        key_dir=tmp / "buyer-keys",
        public_url=_PUBLIC_URL,
        registry_url=_NOWHERE,
    )
    return create_app(settings)


_BUILDERS: Final[dict[str, Callable[[Path], Any]]] = {
    "registry": _build_registry,
    "gateway": _build_gateway,
    "seller": _build_seller,
    "buyer": _build_buyer,
}


def _dispose(app: Any) -> None:
    """Close the engine the application opened (its lifespan never ran)."""
    for holder in (app.state, getattr(app.state, "service", None)):
        engine = getattr(holder, "engine", None)
        if engine is not None and hasattr(engine, "dispose"):
            engine.dispose()


@contextlib.contextmanager
def _without_our_environment() -> Iterator[None]:
    """The roles' settings read ``RESEAU_POLES_…`` variables: hide them while the
    applications are built, so the documents are the same on every machine."""
    saved = {name: value for name, value in os.environ.items() if name.startswith("RESEAU_POLES_")}
    for name in saved:
        del os.environ[name]
    try:
        yield
    finally:
        os.environ.update(saved)


def served_document(role: str) -> dict[str, Any]:
    """The document ``role``'s application serves at ``/openapi.json``: FastAPI's, completed
    by :func:`complete_document` (:func:`reseau_poles.api_docs.serve_contract`)."""
    with (
        _without_our_environment(),
        tempfile.TemporaryDirectory(prefix="reseau-poles-openapi-") as tmp,
    ):
        try:
            app = _BUILDERS[role](Path(tmp))
            try:
                document = copy.deepcopy(app.openapi())
            finally:
                _dispose(app)
        except Exception as exc:  # someone's route or setting: say which role, keep the cause
            raise ExportError(
                f"l'application du rôle « {role} » ne donne pas son document OpenAPI : "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        text = json.dumps(document, ensure_ascii=False)
        if tmp in text:  # a setting leaked into the document: it would differ on each run
            raise ExportError(f"le document OpenAPI de {role} contient un chemin temporaire")
    return document


# --- files --------------------------------------------------------------------------------------


def render(document: dict[str, Any]) -> str:
    """Pretty, stable JSON: sorted keys, 2-space indent, UTF-8 text, trailing newline."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


@dataclass(frozen=True)
class Generated:
    documents: dict[str, dict[str, Any]]  # role → document
    unplaced: tuple[Example, ...]  # examples whose operation does not exist (yet)

    def files(self) -> dict[str, str]:
        return {file_name(role): render(doc) for role, doc in self.documents.items()}


@cache
def _generated() -> Generated:
    documents: dict[str, dict[str, Any]] = {}
    placed: list[Example] = []
    for role in ROLES:
        documents[role] = served_document(role)
        placed.extend(placed_examples(role, documents[role]))
    unplaced = tuple(e for e in EXAMPLES if e not in placed)
    return Generated(documents, unplaced)


def generate() -> Generated:
    """Every role's document (built once per process: the applications do not change)."""
    generated = _generated()
    return Generated(copy.deepcopy(generated.documents), generated.unplaced)


def expected_files() -> dict[str, str]:
    """Every file ``openapi/`` should hold, with its exact text."""
    return _generated().files()


def write_documents(folder: str | Path) -> list[Path]:
    """Write each role's document into ``folder``; return the paths written. Other files in
    the folder (its README) are left alone."""
    files = expected_files()  # every document first: a role that fails leaves no half folder
    return write_files(folder, files)


def diff_documents(folder: str | Path) -> list[str]:
    """Names of the files that are missing, different, or extra (``*.json`` not generated)."""
    return drifted_files(folder, expected_files())

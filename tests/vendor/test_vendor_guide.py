"""The vendor guide's links lead somewhere: every relative link names a file of the
repository and, with an anchor, one of its headings (GitHub's slugs)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
GUIDE = REPO / "docs" / "vendors.md"
LINK = re.compile(r"\]\(([^)\s]+)\)")


def slug(heading: str) -> str:
    """GitHub's anchor for a Markdown heading: lower case, punctuation dropped (letters with
    accents, digits, ``-`` and ``_`` kept), each space a hyphen."""
    text = heading.strip().lower().replace("`", "")
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", path.read_text("utf-8"), flags=re.DOTALL)
    return {slug(m) for m in re.findall(r"^#{1,6} (.+)$", text, flags=re.MULTILINE)}


def relative_links() -> list[str]:
    links = LINK.findall(GUIDE.read_text("utf-8"))
    return [link for link in links if not re.match(r"[a-z]+:", link)]


def test_slug_follows_github() -> None:
    assert slug("Le contrat `/on_subscribe`") == "le-contrat-on_subscribe"
    assert slug("1. Créer le pôle et sa clé d'API") == "1-créer-le-pôle-et-sa-clé-dapi"
    assert slug("Piles tierces : inscrire") == "piles-tierces--inscrire"


@pytest.mark.parametrize("link", relative_links())
def test_each_link_of_the_guide_resolves(link: str) -> None:
    target, _, anchor = link.partition("#")
    path = (GUIDE.parent / target).resolve() if target else GUIDE
    assert path.exists(), f"docs/vendors.md : {link} n'existe pas"
    if anchor:
        assert anchor in anchors(path), f"docs/vendors.md : pas de titre #{anchor} dans {target}"


def test_the_guide_is_linked_from_the_readmes() -> None:
    for doc in ("README.md", "docs/conformance.md", "registry/README.md"):
        assert "vendors.md" in (REPO / doc).read_text("utf-8"), doc

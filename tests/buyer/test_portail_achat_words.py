"""The search and cart pages build some catalogue keys from a value (a certification, a unit,
a state): each value they can meet has its words, in French and English."""

from __future__ import annotations

from reseau_poles.buyer.services.cart_approval import STATES
from reseau_poles.buyer.web import search
from reseau_poles.portal.i18n import catalogue
from reseau_poles.protocol.profile import Certification, Conservation, Unit


def test_every_value_a_page_names_has_its_words() -> None:
    words = catalogue()
    expected = [
        *(f"search.categorie.{code}" for code in search.CATEGORIES),
        *(f"search.certification.{c.value}" for c in Certification),
        *(f"search.conservation.{c.value}" for c in Conservation),
        *(f"search.unite.{u.value}" for u in Unit),
        *(f"search.par_unite.{code}" for code in search.UNITS),
        *(f"search.tri.{code}" for code in search.SORTS),
        *(f"search.etat.{state}" for state in ("envoi", "echec", "en_attente", "complete")),
        *(f"cart.approbation.{state}" for state in STATES),
        *(f"cart.approbation.aide_{state}" for state in STATES),
        *(f"cart.approbation.decide_par_{state}" for state in ("approuve", "renvoye")),
        *(f"cart.pole.{s}" for s in ("attente", "en_cours", "confirmee", "echec", "annulee")),
        *(
            f"cart.progression.{s}"
            for s in ("non_commande", "en_cours", "complete", "partielle", "echec")
        ),
        *(
            f"cart.apercu.etat.{s}"
            for s in ("devis", "refus", "sans_reponse", "non_demande", "perime")
        ),
        *(f"cart.apercu.aide.{s}" for s in ("sans_reponse", "non_demande", "perime")),
    ]
    missing = [key for key in expected if key not in words]
    assert missing == []
    assert set(search.CERTIFICATIONS) <= {c.value for c in Certification}

"""Every message key the follow-up pages build from a code is in the catalogue, in both
languages: each phase, fulfilment step (per type), request, fulfilment type, payment type,
step status, reason a cancellation is refused, certified family and report total."""

from __future__ import annotations

from reseau_poles.buyer.services.order_timeline import CancellationQuote
from reseau_poles.buyer.services.reports import FAMILIES, TOTAL_LABELS
from reseau_poles.buyer.web import labels, report
from reseau_poles.buyer.web.orders import CANCEL_REASONS
from reseau_poles.portal.i18n import catalogue
from reseau_poles.protocol.lifecycle import Action, Phase
from reseau_poles.protocol.profile.vocabulary import FulfillmentState, FulfillmentType, PaymentType


def test_every_key_built_from_a_code_is_in_the_catalogue() -> None:
    messages = catalogue()
    keys = {labels.phase_key(phase.value) for phase in Phase if phase is not Phase.SEARCHING}
    for kind in (*FulfillmentType, None):
        for state in FulfillmentState:
            key = labels.fulfillment_key(state.value, kind.value if kind else None)
            assert key is not None
            keys.add(key)
    keys |= {"orders.etape.created", "orders.etape.accepted"}
    keys |= {f"orders.action.{action.value}" for action in Action if action is not Action.SEARCH}
    keys |= {f"orders.mode.{kind.value}" for kind in FulfillmentType} | {"orders.mode.inconnu"}
    keys |= {f"orders.paiement.{kind.value}" for kind in PaymentType}
    keys |= {f"orders.suivi.statut.{status}" for status in ("done", "current", "todo")}
    keys |= {
        f"orders.annulation.impossible.{reason}"
        for reason in ("non_confirmee", "etat", "hors_conditions", "demande_en_cours")
    }
    keys |= {key for _, key in CANCEL_REASONS}
    keys |= {f"report.famille.{code}" for code in FAMILIES}
    keys |= {f"report.famille_court.{code}" for code in FAMILIES}
    keys |= {f"report.total.{code}" for code in TOTAL_LABELS}
    keys |= {key for key, _ in report.presets(report.today())}
    missing = sorted(key for key in keys if key not in messages)
    assert missing == []
    assert CancellationQuote(False, "etat", "Pending").reason == "etat"


def test_states_and_badges() -> None:
    assert labels.state_badge({"state": "selected", "fulfillment": {"state": None}}) == (
        "orders.phase.selected",
        "selected",
    )
    assert labels.state_badge(
        {
            "state": "confirmed",
            "fulfillment": {"state": "Ready-for-pickup", "type": "point_de_chute"},
        }
    ) == ("orders.etape.at-drop-point", "Ready-for-pickup")
    assert labels.certification_badges(["aliments_du_quebec", "inconnue", "biologique_canada"]) == [
        ("Aliments du Québec", "aq"),
        ("Biologique Canada", "bio"),
    ]
    assert labels.region_name("QC-05") == "Estrie" and labels.region_name("QC-99") is None

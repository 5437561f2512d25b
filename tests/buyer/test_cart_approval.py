"""The approval step of carts as a property: whatever the sequence of actions and whoever
tries them, a cart moves only along the allowed transitions, by the roles allowed, and never
leaves ``commande``; an organisation that requires approval orders only approved carts.

The rule (:func:`reseau_poles.buyer.services.cart_approval.step`) is checked against a table
written here independently; then the same random sequences are played on a real database
(SQLite, and PostgreSQL when the CI names one) through the service that writes the cart
(:class:`ApprovalService`, and the API's guards for a change and an order), which must accept
and refuse exactly as the table says and record who submitted and who decided."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from reseau_poles.buyer.app import migrate
from reseau_poles.buyer.repositories import carts as cart_repo
from reseau_poles.buyer.repositories import organisations as org_repo
from reseau_poles.buyer.services.cart_approval import (
    ACTIONS,
    STATES,
    ApprovalService,
    allowed,
    check_editable,
    check_orderable,
    state_of,
    step,
)
from reseau_poles.participant import ApiError
from reseau_poles.storage import (
    make_engine,
    make_session_factory,
    read_session,
    utcnow,
    write_session,
)
from tests.conftest import _backends, fresh_database

ROLE_SETS = [
    frozenset(),
    frozenset({"admin"}),
    frozenset({"acheteur"}),
    frozenset({"approbateur"}),
    frozenset({"acheteur", "approbateur"}),
    frozenset({"acheteur", "approbateur", "admin"}),
]

# (action, from) → (roles of which one is needed, to); "required": only when approval is.
TABLE: dict[tuple[str, str], tuple[frozenset[str], str]] = {
    ("modifier", "brouillon"): (frozenset({"acheteur", "approbateur"}), "brouillon"),
    ("modifier", "renvoye"): (frozenset({"acheteur", "approbateur"}), "renvoye"),
    ("modifier", "approuve"): (frozenset({"acheteur", "approbateur"}), "brouillon"),
    ("soumettre", "brouillon"): (frozenset({"acheteur"}), "soumis"),
    ("soumettre", "renvoye"): (frozenset({"acheteur"}), "soumis"),
    ("retirer", "soumis"): (frozenset({"acheteur"}), "brouillon"),
    ("approuver", "soumis"): (frozenset({"approbateur"}), "approuve"),
    ("approuver", "brouillon"): (frozenset({"approbateur"}), "approuve"),
    ("approuver", "renvoye"): (frozenset({"approbateur"}), "approuve"),
    ("renvoyer", "soumis"): (frozenset({"approbateur"}), "renvoye"),
    ("commander", "approuve"): (frozenset({"acheteur", "approbateur"}), "commande"),
    ("commander", "brouillon"): (frozenset({"acheteur", "approbateur"}), "commande"),
    ("commander", "renvoye"): (frozenset({"acheteur", "approbateur"}), "commande"),
}


def expected(state: str, action: str, roles: frozenset[str], required: bool) -> str | None:
    """The table's answer: the next state, or ``None`` when refused."""
    found = TABLE.get((action, state))
    if found is None:
        return None
    needed, after = found
    if not needed & roles:
        return None
    if action == "soumettre" and not required:
        return None
    if action == "commander" and required and state != "approuve":
        return None
    return after


def attempt(state: str, action: str, roles: frozenset[str], required: bool) -> str | None:
    try:
        return step(state, action, roles, required)
    except ApiError as exc:
        assert exc.status in (403, 409), exc.code
        if not any(role in roles for role in TABLE.get((action, state), (frozenset(),))[0]):
            assert exc.status == 403 or state == "commande" or (action, state) not in TABLE
        return None


@given(
    st.sampled_from(STATES),
    st.sampled_from(ACTIONS),
    st.sampled_from(ROLE_SETS),
    st.booleans(),
)
def test_the_rule_is_the_table(
    state: str, action: str, roles: frozenset[str], required: bool
) -> None:
    assert attempt(state, action, roles, required) == expected(state, action, roles, required)
    assert (action in allowed(state, roles, required)) == (
        expected(state, action, roles, required) is not None
    )


@given(
    st.lists(st.tuples(st.sampled_from(ACTIONS), st.sampled_from(ROLE_SETS)), max_size=25),
    st.booleans(),
)
def test_any_sequence_follows_the_rule(
    moves: list[tuple[str, frozenset[str]]], required: bool
) -> None:
    state = "brouillon"
    history = [state]
    for action, roles in moves:
        after = attempt(state, action, roles, required)
        if after is None:
            continue
        assert (action, state) in TABLE and TABLE[(action, state)][1] == after
        if after == "commande" and required:
            assert history[-1] == "approuve"  # an order needs the approval before it
        if after == "soumis":
            assert required and "acheteur" in roles
        state = after
        history.append(state)
    if "commande" in history:
        assert history[-1] == "commande"  # nothing leaves it


# --- the same on a database ------------------------------------------------------------------


class _NoCheckout:
    """Stands for the cart service: the approval service needs only its session factory (an
    order is played by :func:`check_orderable`, which the checkout calls first)."""

    def __init__(self, factory: Any) -> None:
        self.factory = factory


@pytest.fixture(scope="module", params=_backends())
def database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    urls = fresh_database(request.param, tmp_path_factory.mktemp("approbation"), "a.sqlite")
    engine = make_engine(next(urls))
    migrate(engine)
    with write_session(make_session_factory(engine)) as session:
        org_repo.add_organisation(session, "ecole", "École")
        org_repo.add_organisation(session, "ecole-libre", "École sans approbation")
        org_repo.set_requires_approval(session, "ecole", True)
    try:
        yield engine
    finally:
        engine.dispose()
        next(urls, None)


def _new_cart(factory: Any, organisation_id: str) -> str:
    cart_id = str(uuid.uuid4())
    now = utcnow()
    with write_session(factory) as session:
        cart_repo.insert_cart(
            session,
            {
                "id": cart_id,
                "organisation_id": organisation_id,
                "state": "ouvert",
                "created_at": now,
                "updated_at": now,
                "billing": {"name": "École"},
                "fulfilment": {"type": "livraison", "address": "1, rue du Quai, Québec"},
            },
        )
        cart_repo.put_line(
            session,
            cart_id,
            {
                "bpp_id": "vendeur",
                "provider_id": "pole",
                "item_id": "sirop",
                "quantity": 6,
                "fulfilment_id": None,
            },
            now,
        )
    return cart_id


def _play(
    service: ApprovalService,
    organisation_id: str,
    cart_id: str,
    action: str,
    roles: frozenset[str],
    user: int,
) -> None:
    """One action on the database, as the portal and the API do it."""
    factory = service.factory
    if action in ("modifier", "commander"):
        with write_session(factory) as session:
            cart = cart_repo.get_cart(session, organisation_id, cart_id, lock=True)
            assert cart is not None
            required = org_repo.requires_approval(session, organisation_id)
            step(state_of(cart), action, roles, required)  # the portal's role check
            if action == "modifier":
                values = check_editable(session, organisation_id, cart)
                cart_repo.update_cart(session, cart_id, {"updated_at": utcnow(), **values})
            else:
                check_orderable(session, organisation_id, cart)
                assert cart_repo.check_out(session, cart_id, utcnow())
        return
    run = {
        "soumettre": lambda: service.submit(organisation_id, cart_id, user, roles),
        "retirer": lambda: service.withdraw(organisation_id, cart_id, user, roles),
        "approuver": lambda: service.approve(organisation_id, cart_id, user, roles),
        "renvoyer": lambda: service.send_back(organisation_id, cart_id, user, roles, "Trop cher."),
    }[action]
    asyncio.run(run())


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(st.sampled_from(ACTIONS), st.sampled_from(ROLE_SETS), st.integers(1, 5)),
        max_size=12,
    ),
    st.sampled_from(["ecole", "ecole-libre"]),
)
def test_the_service_writes_only_what_the_rule_allows(
    database: Engine, moves: list[tuple[str, frozenset[str], int]], organisation_id: str
) -> None:
    factory = make_session_factory(database)
    service = ApprovalService(_NoCheckout(factory))  # type: ignore[arg-type]
    cart_id = _new_cart(factory, organisation_id)
    required = organisation_id == "ecole"
    state, submitted_by, decided_by = "brouillon", None, None
    for action, roles, user in moves:
        want = expected(state, action, roles, required)
        try:
            _play(service, organisation_id, cart_id, action, roles, user)
            accepted = True
        except ApiError:
            accepted = False
        assert accepted == (want is not None), (state, action, sorted(roles), required)
        if want is not None:
            if action == "soumettre":
                submitted_by, decided_by = user, None
            elif action in ("approuver", "renvoyer"):
                decided_by = user
            elif action == "retirer":
                submitted_by = None
            elif action == "modifier" and state == "approuve":
                decided_by = None
            state = want
        with read_session(factory) as session:
            cart = cart_repo.get_cart(session, organisation_id, cart_id)
        assert cart is not None
        assert state_of(cart) == state
        assert cart["submitted_by"] == submitted_by and cart["decided_by"] == decided_by

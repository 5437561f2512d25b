"""The buyer node's tables (SQLAlchemy Core), the same on SQLite and PostgreSQL.

Names start with ``buyer_`` so the node can share a database with other roles; its Alembic
revisions live in ``migrations/`` with their own version table (``alembic_version_buyer``).
"""

from __future__ import annotations

import sqlalchemy as sa

from reseau_poles.storage import UTCDateTime, make_metadata

metadata = make_metadata()

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

organisations = sa.Table(
    "buyer_organisations",
    metadata,
    # A short slug chosen by the operator: "css-capitale", "chu-sherbrooke".
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("active", sa.Boolean(), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
)

api_keys = sa.Table(
    "buyer_api_keys",
    metadata,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column(
        "organisation_id", sa.String(64), sa.ForeignKey("buyer_organisations.id"), nullable=False
    ),
    # The first characters of the key, shown to people to tell keys apart; never the key.
    sa.Column("prefix", sa.String(16), nullable=False),
    # SHA-256 of the whole key (keys are 32 random bytes: no need for a slow hash).
    sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("label", sa.String(255), nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("revoked_at", UTCDateTime(), nullable=True),
)

searches = sa.Table(
    "buyer_searches",
    metadata,
    sa.Column("transaction_id", sa.String(64), primary_key=True),
    sa.Column("message_id", sa.String(64), nullable=False),
    sa.Column(
        "organisation_id", sa.String(64), sa.ForeignKey("buyer_organisations.id"), nullable=False
    ),
    # The client's parameters, as accepted (text, category, region, …).
    sa.Column("params", sa.JSON(), nullable=False),
    # "envoi" while the search goes out, then "envoyee" (or "echec": nobody took it).
    sa.Column("dispatch", sa.String(16), nullable=False),
    # {bpp_id: {"url", "status": ACK|NACK|ERROR, "error"}}: who was asked and what they said;
    # through a gateway, the sellers the registry routes to (expected, not confirmed).
    sa.Column("targets", sa.JSON(), nullable=False),
    sa.Column("via_gateway", sa.String(255), nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("dispatched_at", UTCDateTime(), nullable=True),
    sa.CheckConstraint("dispatch IN ('envoi', 'envoyee', 'echec')", name="dispatch"),
)
sa.Index("ix_buyer_searches_organisation", searches.c.organisation_id, searches.c.created_at)

callbacks = sa.Table(
    "buyer_callbacks",
    metadata,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("transaction_id", sa.String(64), nullable=False),
    # Sellers echo the request's message id, and a search multicast by the gateway carries
    # one message id to every seller: a callback is identified by who sent it as well.
    sa.Column("message_id", sa.String(64), nullable=False),
    sa.Column("bpp_id", sa.String(255), nullable=False),
    sa.Column("bpp_uri", sa.String(2048), nullable=True),
    # The verified body, as received (text: the exact bytes, decoded as UTF-8).
    sa.Column("body", sa.Text(), nullable=False),
    sa.Column("received_at", UTCDateTime(), nullable=False),
    sa.UniqueConstraint("action", "bpp_id", "message_id"),
)
sa.Index("ix_buyer_callbacks_transaction", callbacks.c.transaction_id, callbacks.c.id)

search_results = sa.Table(
    "buyer_search_results",
    metadata,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column(
        "transaction_id",
        sa.String(64),
        sa.ForeignKey("buyer_searches.transaction_id"),
        nullable=False,
    ),
    sa.Column("callback_id", _ID, sa.ForeignKey("buyer_callbacks.id"), nullable=False),
    sa.Column("bpp_id", sa.String(255), nullable=False),
    sa.Column("bpp_uri", sa.String(2048), nullable=True),
    sa.Column("provider_id", sa.String(255), nullable=False),
    # The provider as sent, without its items; the items as a JSON array.
    sa.Column("provider", sa.JSON(), nullable=False),
    sa.Column("items", sa.JSON(), nullable=False),
    sa.Column("received_at", UTCDateTime(), nullable=False),
)
sa.Index(
    "ix_buyer_search_results_transaction", search_results.c.transaction_id, search_results.c.id
)

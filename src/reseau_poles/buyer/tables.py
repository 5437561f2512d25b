"""The buyer node's tables (SQLAlchemy Core), the same on SQLite and PostgreSQL.

Names start with ``buyer_`` so the node can share a database with other roles; its Alembic
revisions live in ``migrations/`` with their own version table (``alembic_version_buyer``).
"""

from __future__ import annotations

import sqlalchemy as sa

from reseau_poles.participant.webhooks import webhook_table
from reseau_poles.portal.accounts import account_tables
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
    # A cart is ordered only once an approver approved it (migration 0009; the portal's
    # approval step, services/cart_approval.py).
    sa.Column("requires_approval", sa.Boolean(), nullable=False, server_default=sa.false()),
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
    # Follow-up pages asked of one pôle each (migration 0004): [{"bpp_id", "provider_id",
    # "message_id", "start", "status", "sent_at"}]; an ACKed one is due until its on_search.
    sa.Column("pages", sa.JSON(), nullable=True),
    sa.CheckConstraint("dispatch IN ('envoi', 'envoyee', 'echec')", name="dispatch"),
)
sa.Index("ix_buyer_searches_organisation", searches.c.organisation_id, searches.c.created_at)
# The purge of old searches reads them by age (migration 0007).
sa.Index("ix_buyer_searches_created_at", searches.c.created_at)

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
# A pôle's newest results (migration 0011): what a cart or an order line is checked against
# (``repositories.catalog``), read newest first without walking the whole search history.
sa.Index(
    "ix_buyer_search_results_pole",
    search_results.c.bpp_id,
    search_results.c.provider_id,
    search_results.c.id,
)

# --- orders (migration 0002) -----------------------------------------------------------------
#
# One order per transaction: the buyer's choice with one pôle (``provider_id`` at the seller
# node ``bpp_id``), from the first ``select`` to the last ``on_status``. The columns an
# institutional layer needs (purchase order number, delivery site, cart, payment terms) are
# here already, nullable; their own tables (sites, carts) come with migration 0003.

orders = sa.Table(
    "buyer_orders",
    metadata,
    # The transaction id: the order's id in the client API, echoed by every callback.
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column(
        "organisation_id", sa.String(64), sa.ForeignKey("buyer_organisations.id"), nullable=False
    ),
    sa.Column("bpp_id", sa.String(255), nullable=False),
    sa.Column("bpp_uri", sa.String(2048), nullable=True),
    sa.Column("provider_id", sa.String(255), nullable=False),
    sa.Column("provider_name", sa.String(255), nullable=True),
    sa.Column("domain", sa.String(64), nullable=False),
    sa.Column("city_code", sa.String(16), nullable=False),
    # The life cycle's phase (protocol.lifecycle.Phase): new, selected, initialized,
    # confirmed, completed, cancelled; the whole OrderLifecycle as JSON beside it.
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("lifecycle", sa.JSON(), nullable=False),
    # Beckn Order.status once confirmed (ACTIVE, COMPLETE, CANCELLED) and the seller's order id.
    sa.Column("status", sa.String(16), nullable=True),
    sa.Column("seller_order_id", sa.String(255), nullable=True),
    sa.Column("fulfillment_id", sa.String(255), nullable=True),
    sa.Column("fulfillment_type", sa.String(32), nullable=True),
    sa.Column("fulfillment_state", sa.String(32), nullable=True),
    # The request waiting for its callback: action, message id, since when, and whether it
    # went out ("envoi", "envoyee") or was refused ("echec"); null when nothing is pending.
    sa.Column("pending_action", sa.String(16), nullable=True),
    sa.Column("pending_message_id", sa.String(64), nullable=True),
    sa.Column("pending_since", UTCDateTime(), nullable=True),
    sa.Column("dispatch", sa.String(16), nullable=True),
    # The last refusal (NACK or a callback's ``error``): {action, code, message, path, source}.
    sa.Column("last_error", sa.JSON(), nullable=True),
    # What the client asked for (items, fulfilment, billing, payment), as accepted.
    sa.Column("request", sa.JSON(), nullable=False),
    # The seller's latest order document and quote, as received.
    sa.Column("document", sa.JSON(), nullable=True),
    sa.Column("quote", sa.JSON(), nullable=True),
    sa.Column("tracking", sa.JSON(), nullable=True),
    sa.Column("support", sa.JSON(), nullable=True),
    sa.Column("currency", sa.String(3), nullable=True),
    sa.Column("total", sa.Numeric(14, 2), nullable=True),
    sa.Column("billing", sa.JSON(), nullable=True),
    sa.Column("payment_type", sa.String(32), nullable=True),
    sa.Column("payment_net_days", sa.Integer(), nullable=True),
    # Institutional purchasing (the tables behind delivery_site_id and cart_id: 0003).
    sa.Column("purchase_order_number", sa.String(64), nullable=True),
    sa.Column("delivery_site_id", sa.String(64), nullable=True),
    sa.Column("cart_id", sa.String(64), nullable=True),
    sa.Column("delivery_window_start", UTCDateTime(), nullable=True),
    sa.Column("delivery_window_end", UTCDateTime(), nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Column("confirmed_at", UTCDateTime(), nullable=True),
    sa.CheckConstraint(
        "state IN ('new', 'selected', 'initialized', 'confirmed', 'completed', 'cancelled')",
        name="state",
    ),
    sa.CheckConstraint("dispatch IN ('envoi', 'envoyee', 'echec')", name="dispatch"),
)
sa.Index("ix_buyer_orders_organisation", orders.c.organisation_id, orders.c.created_at)
sa.Index("ix_buyer_orders_organisation_state", orders.c.organisation_id, orders.c.state)
sa.Index("ix_buyer_orders_provider", orders.c.bpp_id, orders.c.provider_id)
sa.Index("ix_buyer_orders_cart", orders.c.cart_id)
sa.Index(
    "ix_buyer_orders_purchase_order",
    orders.c.organisation_id,
    orders.c.purchase_order_number,
)

order_lines = sa.Table(
    "buyer_order_lines",
    metadata,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("order_id", sa.String(64), sa.ForeignKey("buyer_orders.id"), nullable=False),
    sa.Column("position", sa.Integer(), nullable=False),
    sa.Column("item_id", sa.String(255), nullable=False),
    sa.Column("name", sa.String(255), nullable=True),
    sa.Column("quantity", sa.Integer(), nullable=False),
    sa.Column("unit", sa.String(16), nullable=True),
    # From the seller's latest quote (null until a quote came): unit price, line amount, taxes.
    sa.Column("unit_price", sa.Numeric(14, 4), nullable=True),
    sa.Column("amount", sa.Numeric(14, 2), nullable=True),
    sa.Column("taxable", sa.Boolean(), nullable=True),
    sa.Column("tps", sa.Numeric(14, 2), nullable=True),
    sa.Column("tvq", sa.Numeric(14, 2), nullable=True),
    # Snapshot for the local-purchasing report: what the catalog said when the quote came.
    sa.Column("certifications", sa.JSON(), nullable=True),
    sa.Column("origin_region", sa.String(16), nullable=True),
    sa.Column("producer", sa.String(255), nullable=True),
    sa.Column("conservation", sa.String(16), nullable=True),
    sa.UniqueConstraint("order_id", "item_id"),
)

order_events = sa.Table(
    "buyer_order_events",
    metadata,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("order_id", sa.String(64), sa.ForeignKey("buyer_orders.id"), nullable=False),
    # request_sent, request_refused, request_failed, callback, callback_error, state_changed,
    # fulfillment_changed, state_ignored
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("action", sa.String(16), nullable=True),
    sa.Column("message_id", sa.String(64), nullable=True),
    sa.Column("callback_id", _ID, sa.ForeignKey("buyer_callbacks.id"), nullable=True),
    sa.Column("state_from", sa.String(32), nullable=True),
    sa.Column("state_to", sa.String(32), nullable=True),
    sa.Column("detail", sa.JSON(), nullable=True),
    sa.Column("occurred_at", UTCDateTime(), nullable=False),
)
sa.Index("ix_buyer_order_events_order", order_events.c.order_id, order_events.c.id)

# The organisations' webhook subscriptions (owner_id = organisation id): order events pushed to
# the buyer's own system; see reseau_poles.participant.webhooks.
webhooks = webhook_table(metadata, "buyer")

# --- institutional purchasing (migration 0003) ---------------------------------------------
#
# An organisation's delivery sites, and its carts: lines picked from several pôles that become
# one order per pôle at checkout (buyer_orders.cart_id; one buyer_cart_poles row per pôle says
# how far its order got and what refused it).

delivery_sites = sa.Table(
    "buyer_delivery_sites",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column(
        "organisation_id", sa.String(64), sa.ForeignKey("buyer_organisations.id"), nullable=False
    ),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("address", sa.String(500), nullable=False),
    sa.Column("postal_code", sa.String(8), nullable=True),
    sa.Column("region", sa.String(16), nullable=False),
    sa.Column("gps", sa.String(64), nullable=True),
    # [{"days": ["lun", …], "start": "07:00", "end": "11:00"}]
    sa.Column("receiving_hours", sa.JSON(), nullable=False),
    sa.Column("contact", sa.JSON(), nullable=True),
    # What the site can receive: ["ambiant", "refrigere", "congele"]
    sa.Column("cold_chain", sa.JSON(), nullable=False),
    sa.Column("instructions", sa.String(500), nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    # Deleted sites are kept (orders name them), hidden from the API.
    sa.Column("deleted_at", UTCDateTime(), nullable=True),
)
sa.Index("ix_buyer_delivery_sites_organisation", delivery_sites.c.organisation_id)

carts = sa.Table(
    "buyer_carts",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column(
        "organisation_id", sa.String(64), sa.ForeignKey("buyer_organisations.id"), nullable=False
    ),
    sa.Column("name", sa.String(255), nullable=True),
    # ouvert (lines may change), commande (checked out: one order per pôle)
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("delivery_site_id", sa.String(64), nullable=True),
    # An explicit fulfilment (FulfilmentIn) when no site is named.
    sa.Column("fulfilment", sa.JSON(), nullable=True),
    sa.Column("delivery_window_start", UTCDateTime(), nullable=True),
    sa.Column("delivery_window_end", UTCDateTime(), nullable=True),
    sa.Column("purchase_order_number", sa.String(64), nullable=True),
    sa.Column("payment_type", sa.String(32), nullable=True),
    sa.Column("payment_net_days", sa.Integer(), nullable=True),
    sa.Column("billing", sa.JSON(), nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Column("checked_out_at", UTCDateTime(), nullable=True),
    # The approval step (migration 0009, services/cart_approval.py): brouillon (being filled),
    # soumis (awaiting an approver; its lines do not change), renvoye (sent back with a
    # comment), approuve. Who submitted, who decided (portal user ids) and when.
    sa.Column("approval", sa.String(16), nullable=False, server_default="brouillon"),
    sa.Column("submitted_by", _ID, nullable=True),
    sa.Column("submitted_at", UTCDateTime(), nullable=True),
    sa.Column("decided_by", _ID, nullable=True),
    sa.Column("decided_at", UTCDateTime(), nullable=True),
    sa.Column("approval_comment", sa.String(500), nullable=True),
    sa.CheckConstraint("state IN ('ouvert', 'commande')", name="state"),
    sa.CheckConstraint(
        "approval IN ('brouillon', 'soumis', 'renvoye', 'approuve')", name="approval"
    ),
)
sa.Index("ix_buyer_carts_organisation", carts.c.organisation_id, carts.c.created_at)

cart_lines = sa.Table(
    "buyer_cart_lines",
    metadata,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("cart_id", sa.String(64), sa.ForeignKey("buyer_carts.id"), nullable=False),
    sa.Column("bpp_id", sa.String(255), nullable=False),
    sa.Column("provider_id", sa.String(255), nullable=False),
    sa.Column("item_id", sa.String(255), nullable=False),
    sa.Column("quantity", sa.Integer(), nullable=False),
    # The pôle's fulfilment option (its catalog's fulfillments[].id), when chosen.
    sa.Column("fulfilment_id", sa.String(255), nullable=True),
    sa.Column("added_at", UTCDateTime(), nullable=False),
    sa.UniqueConstraint("cart_id", "bpp_id", "provider_id", "item_id"),
)
sa.Index("ix_buyer_cart_lines_cart", cart_lines.c.cart_id, cart_lines.c.id)

cart_poles = sa.Table(
    "buyer_cart_poles",
    metadata,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("cart_id", sa.String(64), sa.ForeignKey("buyer_carts.id"), nullable=False),
    sa.Column("bpp_id", sa.String(255), nullable=False),
    sa.Column("provider_id", sa.String(255), nullable=False),
    # The pôle's fulfilment option of this group of lines ('' when none is named): two
    # options of one pôle are two orders (0005).
    sa.Column("fulfilment_id", sa.String(255), nullable=False, server_default=""),
    sa.Column("order_id", sa.String(64), nullable=True),
    # attente, en_cours, confirmee, echec
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("error", sa.JSON(), nullable=True),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.UniqueConstraint("cart_id", "bpp_id", "provider_id", "fulfilment_id"),
    sa.CheckConstraint("state IN ('attente', 'en_cours', 'confirmee', 'echec')", name="state"),
)

# --- the portal's people (migration 0008) -----------------------------------------------------
#
# buyer_portal_users (an organisation's people: e-mail, argon2 hash, roles), _sessions,
# _login_failures, _audit: the portal frame's tables (reseau_poles.portal.accounts).
portal_accounts = account_tables(metadata, "buyer", organisations.c.id)

# --- order guides (migration 0009) -----------------------------------------------------------
#
# An organisation's reusable lists of usual products and quantities ("guide de commande"): a
# guide becomes a cart in one click (buyer.services.guides). A line names the item as a cart
# line does (seller node, pôle, item, fulfilment option) and keeps the names it was saved
# with, so the guide reads well even once the catalogue seen is purged.

order_guides = sa.Table(
    "buyer_order_guides",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column(
        "organisation_id", sa.String(64), sa.ForeignKey("buyer_organisations.id"), nullable=False
    ),
    sa.Column("name", sa.String(255), nullable=False),
    # The delivery site the carts made from the guide start with (kept when the site goes:
    # the cart is then made without it).
    sa.Column("delivery_site_id", sa.String(64), nullable=True),
    # The portal account that made it (buyer_portal_users.id); null from elsewhere.
    sa.Column("created_by", _ID, nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)
sa.Index("ix_buyer_order_guides_organisation", order_guides.c.organisation_id, order_guides.c.name)

order_guide_lines = sa.Table(
    "buyer_order_guide_lines",
    metadata,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("guide_id", sa.String(64), sa.ForeignKey("buyer_order_guides.id"), nullable=False),
    sa.Column("position", sa.Integer(), nullable=False),
    sa.Column("bpp_id", sa.String(255), nullable=False),
    sa.Column("provider_id", sa.String(255), nullable=False),
    sa.Column("provider_name", sa.String(255), nullable=True),
    sa.Column("item_id", sa.String(255), nullable=False),
    sa.Column("name", sa.String(255), nullable=True),
    sa.Column("unit", sa.String(16), nullable=True),
    sa.Column("quantity", sa.Integer(), nullable=False),
    sa.Column("fulfilment_id", sa.String(255), nullable=True),
    sa.UniqueConstraint("guide_id", "bpp_id", "provider_id", "item_id"),
    sa.CheckConstraint("quantity > 0", name="quantity"),
)
sa.Index(
    "ix_buyer_order_guide_lines_guide", order_guide_lines.c.guide_id, order_guide_lines.c.position
)

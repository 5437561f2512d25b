"""The seller node's tables (SQLAlchemy Core), the same on SQLite and PostgreSQL.

Names start with ``seller_`` so the node can share a database with other roles; its Alembic
revisions live in ``migrations/`` with their own version table. Money is ``Numeric(12, 2)``
in CAD; counts are integers; lists of codes (certifications, regions, months) are stored as
comma-wrapped text (``,a,b,``) so that one ``LIKE '%,a,%'`` finds them on both databases.
"""

from __future__ import annotations

import sqlalchemy as sa

from reseau_poles.participant.webhooks import webhook_table
from reseau_poles.portal.accounts import account_tables
from reseau_poles.storage import UTCDateTime, make_metadata

metadata = make_metadata()

MONEY = sa.Numeric(12, 2)
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

providers = sa.Table(
    "seller_providers",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("short_desc", sa.Text(), nullable=True),
    sa.Column("legal_form", sa.String(16), nullable=False),
    sa.Column("neq", sa.String(10), nullable=True),
    sa.Column("region", sa.String(8), nullable=False),
    # ",QC-03,QC-12," or ",*,": regions served; the home region when empty.
    sa.Column("served_regions", sa.String(255), nullable=False),
    sa.Column("email", sa.String(255), nullable=True),
    sa.Column("phone", sa.String(64), nullable=True),
    sa.Column("opening_hours", sa.String(255), nullable=True),
    # Payment terms offered: ",POST-FULFILLMENT,ON-FULFILLMENT," and the net delay (days).
    sa.Column("payment_types", sa.String(255), nullable=False),
    sa.Column("net_days", sa.Integer(), nullable=True),
    sa.Column("cancellation_fee_percentage", MONEY, nullable=False),
    # Who to reach at the pôle, and its web site (management API, revision 0002).
    sa.Column("contact_name", sa.String(255), nullable=True),
    sa.Column("website", sa.String(2048), nullable=True),
    sa.Column("active", sa.Boolean(), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.CheckConstraint("legal_form IN ('obnl', 'cooperative')", name="legal_form"),
)

locations = sa.Table(
    "seller_locations",
    metadata,
    sa.Column("provider_id", sa.String(64), sa.ForeignKey("seller_providers.id"), nullable=False),
    sa.Column("id", sa.String(64), nullable=False),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("gps", sa.String(64), nullable=True),
    sa.Column("address", sa.String(512), nullable=True),
    sa.Column("city", sa.String(128), nullable=True),
    sa.Column("region", sa.String(8), nullable=False),
    sa.Column("postal_code", sa.String(16), nullable=True),
    sa.PrimaryKeyConstraint("provider_id", "id"),
)

items = sa.Table(
    "seller_items",
    metadata,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("provider_id", sa.String(64), sa.ForeignKey("seller_providers.id"), nullable=False),
    sa.Column("sku", sa.String(64), nullable=False),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("short_desc", sa.Text(), nullable=True),
    sa.Column("long_desc", sa.Text(), nullable=True),
    sa.Column("name_en", sa.String(255), nullable=True),
    sa.Column("short_desc_en", sa.Text(), nullable=True),
    sa.Column("category_id", sa.String(64), nullable=False),
    sa.Column("category_name", sa.String(255), nullable=False),
    sa.Column("unit", sa.String(16), nullable=False),
    sa.Column("pack_size", sa.Numeric(12, 3), nullable=False),
    sa.Column("price", MONEY, nullable=False),
    sa.Column("minimum_quantity", sa.Integer(), nullable=False),
    sa.Column("maximum_quantity", sa.Integer(), nullable=True),
    sa.Column("taxable", sa.Boolean(), nullable=False),
    sa.Column("certifications", sa.String(512), nullable=False),
    sa.Column("conservation", sa.String(16), nullable=False),
    sa.Column("producer", sa.String(255), nullable=True),
    sa.Column("origin_region", sa.String(8), nullable=True),
    sa.Column("season_months", sa.String(64), nullable=True),
    sa.Column("image_url", sa.String(2048), nullable=True),
    # " sirop erable biologique … ": normalised search keys (profile.search_key) of the
    # French and English texts, producer and category, each preceded by a space, so that
    # LIKE '% erab%' is "a word starts with erab" on both databases.
    sa.Column("search_text", sa.Text(), nullable=False),
    sa.Column("name_normalized", sa.String(255), nullable=False),
    sa.Column("active", sa.Boolean(), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.UniqueConstraint("provider_id", "sku"),
    sa.CheckConstraint("price >= 0", name="price_positive"),
    sa.CheckConstraint("minimum_quantity >= 1", name="minimum_quantity"),
    sa.CheckConstraint("conservation IN ('ambiant', 'refrigere', 'congele')", name="conservation"),
)
sa.Index("ix_seller_items_listing", items.c.provider_id, items.c.name_normalized)

stock = sa.Table(
    "seller_stock",
    metadata,
    sa.Column("item_id", _ID, sa.ForeignKey("seller_items.id"), primary_key=True),
    sa.Column("quantity", sa.Integer(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    # The last line of defence against an oversell: the database itself refuses it.
    sa.CheckConstraint("quantity >= 0", name="quantity_positive"),
)

fulfillment_options = sa.Table(
    "seller_fulfillment_options",
    metadata,
    sa.Column("provider_id", sa.String(64), sa.ForeignKey("seller_providers.id"), nullable=False),
    sa.Column("id", sa.String(64), nullable=False),
    sa.Column("type", sa.String(32), nullable=False),
    sa.Column("name", sa.String(255), nullable=False),
    # Regions delivered to (",QC-03,"); for pickup, where the pôle is.
    sa.Column("regions", sa.String(255), nullable=False),
    sa.Column("fee", MONEY, nullable=False),
    sa.Column("fee_taxable", sa.Boolean(), nullable=False),
    sa.Column("lead_time_hours", sa.Integer(), nullable=False),
    # Cold classes kept: ",refrigere,congele," or ",,".
    sa.Column("cold_chain", sa.String(64), nullable=False),
    sa.Column("location_id", sa.String(64), nullable=True),
    sa.Column("active", sa.Boolean(), nullable=False),
    # When it delivers (0006; NULL: not declared): "lun,mer,ven", "07:00-15:00", the longest
    # window accepted (hours), the minimum order (items before taxes).
    sa.Column("delivery_days", sa.String(32), nullable=True),
    sa.Column("delivery_hours", sa.String(16), nullable=True),
    sa.Column("max_window_hours", sa.Integer(), nullable=True),
    sa.Column("minimum_order", MONEY, nullable=True),
    sa.PrimaryKeyConstraint("provider_id", "id"),
    sa.CheckConstraint("type IN ('livraison', 'cueillette', 'point_de_chute')", name="type"),
)

orders = sa.Table(
    "seller_orders",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("provider_id", sa.String(64), sa.ForeignKey("seller_providers.id"), nullable=False),
    sa.Column("bap_id", sa.String(255), nullable=False),
    sa.Column("bap_uri", sa.String(2048), nullable=False),
    sa.Column("transaction_id", sa.String(128), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("fulfillment_id", sa.String(64), nullable=False),
    sa.Column("fulfillment_type", sa.String(32), nullable=False),
    sa.Column("fulfillment_state", sa.String(32), nullable=False),
    sa.Column("payment_type", sa.String(32), nullable=False),
    sa.Column("total", MONEY, nullable=False),
    # The order as sent in on_confirm; status and fulfilment state are kept up to date
    # in the columns above and written back into it when it is sent again.
    sa.Column("document", sa.JSON(), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    # 0003: the confirm's context (domain, location, bap ids): unsolicited callbacks reuse it.
    sa.Column("context", sa.JSON(), nullable=True),
    # Where the buyer follows a delivery (set with Out-for-delivery).
    sa.Column("tracking_url", sa.String(2048), nullable=True),
    # buyer | seller; the reason code; the fee charged (CAD, 0 when free).
    sa.Column("cancelled_by", sa.String(16), nullable=True),
    sa.Column("cancellation_reason", sa.String(64), nullable=True),
    sa.Column("cancellation_fee", MONEY, nullable=True),
    # 0005: the buyer's purchase-order number (``bon_de_commande`` tag) and the delivery
    # window asked for (end stop's ``time.range``), read from the document for filters and
    # the pick list (seller.order_view).
    sa.Column("purchase_order_number", sa.String(64), nullable=True),
    sa.Column("delivery_start", UTCDateTime(), nullable=True),
    sa.Column("delivery_end", UTCDateTime(), nullable=True),
    # One order per buyer transaction: a second confirm finds the first order.
    sa.UniqueConstraint("bap_id", "transaction_id"),
    sa.CheckConstraint("status IN ('ACTIVE', 'COMPLETE', 'CANCELLED')", name="status"),
)
sa.Index("ix_seller_orders_provider", orders.c.provider_id, orders.c.created_at)
sa.Index("ix_seller_orders_delivery", orders.c.provider_id, orders.c.delivery_start)
sa.Index("ix_seller_orders_purchase_order", orders.c.provider_id, orders.c.purchase_order_number)

order_lines = sa.Table(
    "seller_order_lines",
    metadata,
    sa.Column("order_id", sa.String(64), sa.ForeignKey("seller_orders.id"), nullable=False),
    sa.Column("line_no", sa.Integer(), nullable=False),
    sa.Column("item_id", _ID, sa.ForeignKey("seller_items.id"), nullable=False),
    sa.Column("sku", sa.String(64), nullable=False),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("quantity", sa.Integer(), nullable=False),
    sa.Column("unit_price", MONEY, nullable=False),
    sa.Column("amount", MONEY, nullable=False),
    sa.Column("tps", MONEY, nullable=False),
    sa.Column("tvq", MONEY, nullable=False),
    sa.PrimaryKeyConstraint("order_id", "line_no"),
    sa.CheckConstraint("quantity >= 1", name="quantity_positive"),
)

order_events = sa.Table(
    "seller_order_events",
    metadata,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("order_id", sa.String(64), sa.ForeignKey("seller_orders.id"), nullable=False),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("detail", sa.JSON(), nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
)
sa.Index("ix_seller_order_events_order", order_events.c.order_id, order_events.c.id)

# 0005: every change of an item's stock, with its reason (seller.repositories.stock_movements).
stock_movements = sa.Table(
    "seller_stock_movements",
    metadata,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("item_id", _ID, sa.ForeignKey("seller_items.id"), nullable=False),
    # creation, inventaire, ajustement, import_csv, commande, modification, annulation
    sa.Column("reason", sa.String(32), nullable=False),
    sa.Column("delta", sa.Integer(), nullable=False),
    # The stock once the change was made.
    sa.Column("quantity", sa.Integer(), nullable=False),
    # The order id, or the import ("import:<date>"), or None for a change through the API.
    sa.Column("reference", sa.String(128), nullable=True),
    # What the pôle wrote about it (an adjustment's "reason": "réception", "perte" …).
    sa.Column("note", sa.String(255), nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
)
sa.Index("ix_seller_stock_movements_item", stock_movements.c.item_id, stock_movements.c.id)

# 0003: the pôles' webhook subscriptions (owner_id = provider id); see reseau_poles.participant.webhooks.
webhooks = webhook_table(metadata, "seller")

api_keys = sa.Table(
    "seller_api_keys",
    metadata,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("provider_id", sa.String(64), sa.ForeignKey("seller_providers.id"), nullable=False),
    # The first characters of the key, shown to people to tell keys apart; never the key.
    sa.Column("prefix", sa.String(16), nullable=False),
    # SHA-256 of the whole key (keys are 32 random bytes: no need for a slow hash).
    sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("label", sa.String(255), nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("revoked_at", UTCDateTime(), nullable=True),
)

# 0008: where each buyer transaction stands before its confirm (select → init → confirm): a
# confirm needs a quote and terms sent on that transaction, an init a quote. The row goes
# when the order is confirmed (the order's own life cycle takes over); an abandoned one is
# deleted after TRANSACTION_DAYS (seller/transactions.py).
transactions = sa.Table(
    "seller_transactions",
    metadata,
    sa.Column("bap_id", sa.String(255), primary_key=True),
    sa.Column("transaction_id", sa.String(128), primary_key=True),
    sa.Column("phase", sa.String(16), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)
sa.Index("ix_seller_transactions_updated_at", transactions.c.updated_at)

# 0009: the CSV import's staging rows (seller.services.csv_import). An import validates the file and
# writes its products here in short batches, then one short transaction applies them to
# seller_items / seller_stock; nothing reads this table but the import, so a half-written
# import is never seen. Rows are deleted once applied (or refused).
import_rows = sa.Table(
    "seller_import_rows",
    metadata,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("import_id", sa.String(32), nullable=False, index=True),
    sa.Column("provider_id", sa.String(64), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    # The stored item this row updates (None: a new product).
    sa.Column("item_id", _ID, nullable=True),
    # Leave an existing item's stock as it is (its "stock" cell was empty or absent).
    sa.Column("keep_stock", sa.Boolean(), nullable=False),
    sa.Column("stock", sa.Integer(), nullable=False),
    sa.Column("sku", sa.String(64), nullable=False),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("short_desc", sa.Text(), nullable=True),
    sa.Column("long_desc", sa.Text(), nullable=True),
    sa.Column("name_en", sa.String(255), nullable=True),
    sa.Column("short_desc_en", sa.Text(), nullable=True),
    sa.Column("category_id", sa.String(64), nullable=False),
    sa.Column("category_name", sa.String(255), nullable=False),
    sa.Column("unit", sa.String(16), nullable=False),
    sa.Column("pack_size", sa.Numeric(12, 3), nullable=False),
    sa.Column("price", MONEY, nullable=False),
    sa.Column("minimum_quantity", sa.Integer(), nullable=False),
    sa.Column("maximum_quantity", sa.Integer(), nullable=True),
    sa.Column("taxable", sa.Boolean(), nullable=False),
    sa.Column("certifications", sa.String(512), nullable=False),
    sa.Column("conservation", sa.String(16), nullable=False),
    sa.Column("producer", sa.String(255), nullable=True),
    sa.Column("origin_region", sa.String(8), nullable=True),
    sa.Column("season_months", sa.String(64), nullable=True),
    sa.Column("image_url", sa.String(2048), nullable=True),
    sa.Column("search_text", sa.Text(), nullable=False),
    sa.Column("name_normalized", sa.String(255), nullable=False),
)

# --- the portal's people (migration 0010) -----------------------------------------------------
#
# seller_portal_users (a pôle's staff, organisation_id = the provider id: e-mail, argon2 hash,
# roles), _sessions, _login_failures, _audit: the portal frame's tables
# (reseau_poles.portal.accounts).
portal_accounts = account_tables(metadata, "seller", providers.c.id)

# 0011: a CSV import started from the pôle's pages (seller.services.import_jobs): the file kept
# between its preview (checked, nothing written) and its confirmation, then the import's
# progress and report, read by the page that polls it. The file is dropped once imported.
portal_imports = sa.Table(
    "seller_portal_imports",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("provider_id", sa.String(64), sa.ForeignKey("seller_providers.id"), nullable=False),
    # The portal account that sent the file (seller_portal_users.id).
    sa.Column("user_id", _ID, nullable=True),
    sa.Column("filename", sa.String(255), nullable=False),
    sa.Column("size", sa.Integer(), nullable=False),
    sa.Column("content", sa.LargeBinary(), nullable=True),
    # apercu (checked, waiting for the confirmation), en_cours, termine, echec
    sa.Column("state", sa.String(16), nullable=False),
    # validation, ecriture: where a running import is; done of total rows
    sa.Column("stage", sa.String(16), nullable=True),
    sa.Column("done", sa.Integer(), nullable=False),
    sa.Column("total", sa.Integer(), nullable=False),
    # The preview's report, then the import's (ImportReport.as_dict, errors cut short).
    sa.Column("report", sa.JSON(), nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)
sa.Index(
    "ix_seller_portal_imports_provider", portal_imports.c.provider_id, portal_imports.c.created_at
)

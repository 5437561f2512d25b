"""Seller node: full-text search (SQLite FTS5, PostgreSQL tsvector + unaccent).

SQLite: ``seller_items_fts``, an FTS5 table over ``seller_items`` with external content (the
text is stored once, in ``seller_items``; FTS5 keeps only its index), tokenizer ``unicode61
remove_diacritics 2``, prefix indexes for 2-, 3- and 4-letter prefixes, and three triggers
that keep it in step on insert, update of the indexed columns and delete. Indexed columns:
``name_normalized`` and ``search_text``, the texts the repository already folds (accents,
case, ligatures, typographic apostrophes, plurals) with the same profile functions as the
queries. A SQLite built without FTS5 gets no index and the node searches with LIKE.

PostgreSQL: the text search configuration ``seller_fr`` (a copy of ``french``: French
Snowball stemmer and stop words) with the ``unaccent`` dictionary in front of the stemmer,
the IMMUTABLE function ``seller_search_document(…)`` that builds an item's ``tsvector``
(name weighted A, everything else D), a generated column ``seller_items.search_vector``
and its GIN index. When ``CREATE EXTENSION unaccent`` is refused (no privilege, extension not
installed), ``seller_fr`` stays plain French and the document is built from the already
accent-folded ``name_normalized`` and ``search_text``: searches still ignore accents.

Note for later migrations: a SQLite batch alteration of ``seller_items`` (table copy) drops
its triggers; such a migration must recreate them (``create_sqlite_triggers``) and rebuild.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FTS_TABLE = "seller_items_fts"
FTS_COLUMNS = ("name_normalized", "search_text")
PG_CONFIG = "seller_fr"
PG_COLUMN = "search_vector"
PG_INDEX = "ix_seller_items_search_vector"
DOCUMENT_FUNCTION = "seller_search_document"
# The function's arguments: seller_items columns of the same names, all text.
DOCUMENT_COLUMNS = (
    "name",
    "short_desc",
    "long_desc",
    "name_en",
    "short_desc_en",
    "producer",
    "category_name",
    "name_normalized",
    "search_text",
)


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        _upgrade_sqlite(bind)
    elif bind.dialect.name == "postgresql":
        _upgrade_postgresql(bind)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for suffix in ("ai", "ad", "au"):
            op.execute(f"DROP TRIGGER IF EXISTS {FTS_TABLE}_{suffix}")
        op.execute(f"DROP TABLE IF EXISTS {FTS_TABLE}")
    elif bind.dialect.name == "postgresql":
        op.execute(f"DROP INDEX IF EXISTS {PG_INDEX}")
        op.execute(f"ALTER TABLE seller_items DROP COLUMN IF EXISTS {PG_COLUMN}")
        types = ", ".join("text" for _ in DOCUMENT_COLUMNS)
        op.execute(f"DROP FUNCTION IF EXISTS {DOCUMENT_FUNCTION}({types})")
        op.execute(f"DROP TEXT SEARCH CONFIGURATION IF EXISTS {PG_CONFIG}")
        # The unaccent extension stays: other parts of the database may use it.


# --- SQLite ---------------------------------------------------------------------------------


def _fts5_available(bind: sa.Connection) -> bool:
    options = {row[0] for row in bind.exec_driver_sql("PRAGMA compile_options")}
    return "ENABLE_FTS5" in options


def create_sqlite_triggers() -> None:
    columns = ", ".join(FTS_COLUMNS)
    new = ", ".join(f"new.{c}" for c in FTS_COLUMNS)
    old = ", ".join(f"old.{c}" for c in FTS_COLUMNS)
    delete = (
        f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, {columns}) VALUES ('delete', old.id, {old});"
    )
    insert = f"INSERT INTO {FTS_TABLE}(rowid, {columns}) VALUES (new.id, {new});"
    op.execute(f"CREATE TRIGGER {FTS_TABLE}_ai AFTER INSERT ON seller_items BEGIN {insert} END")
    op.execute(f"CREATE TRIGGER {FTS_TABLE}_ad AFTER DELETE ON seller_items BEGIN {delete} END")
    # Only a change of the indexed text re-indexes: price or flag updates leave it alone.
    op.execute(
        f"CREATE TRIGGER {FTS_TABLE}_au AFTER UPDATE OF {columns} ON seller_items "
        f"BEGIN {delete} {insert} END"
    )


def _upgrade_sqlite(bind: sa.Connection) -> None:
    if not _fts5_available(bind):
        return  # the node falls back to LIKE (reseau_poles.seller.search.make_search)
    op.execute(
        f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5({', '.join(FTS_COLUMNS)}, "
        "content='seller_items', content_rowid='id', "
        "tokenize='unicode61 remove_diacritics 2', prefix='2 3 4')"
    )
    create_sqlite_triggers()
    op.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')")


# --- PostgreSQL -----------------------------------------------------------------------------


def _try_unaccent(bind: sa.Connection) -> bool:
    """Install ``unaccent`` if allowed; a refusal only rolls back to the savepoint."""
    try:
        with bind.begin_nested():
            bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS unaccent")
    except sa.exc.DBAPIError:
        return False
    return True


def _upgrade_postgresql(bind: sa.Connection) -> None:
    unaccent = _try_unaccent(bind)
    if not unaccent:
        logging.getLogger("alembic.runtime.migration").warning(
            "Extension unaccent refusée ou absente : la recherche plein texte indexe les textes "
            "déjà sans accents (name_normalized, search_text). Pour l'activer : "
            "CREATE EXTENSION unaccent (superutilisateur ou propriétaire de la base), "
            "puis refaire la révision 0004 (downgrade 0003, upgrade head)."
        )
    # Schema-qualified: the function must find its configuration whatever the search_path
    # (pg_dump restores with an empty one).
    schema = bind.exec_driver_sql("SELECT current_schema()").scalar_one()
    config = f'"{schema}".{PG_CONFIG}'
    op.execute(f"CREATE TEXT SEARCH CONFIGURATION {config} (COPY = pg_catalog.french)")
    if unaccent:
        op.execute(
            f"ALTER TEXT SEARCH CONFIGURATION {config} "
            "ALTER MAPPING FOR hword, hword_part, word WITH unaccent, french_stem"
        )
        # Raw texts: unaccent, then the French stemmer.
        name = "name"
        rest = (
            "concat_ws(' ', short_desc, long_desc, name_en, short_desc_en, producer, category_name)"
        )
    else:
        # Texts folded by the node itself (profile.normalize_text): no accents left to remove.
        name, rest = "name_normalized", "search_text"
    # to_tsvector(regconfig, text) is immutable; the wrapper pins the configuration and the
    # weights so that the generated column (which needs an immutable expression) and any
    # future reader build the same document.
    op.execute(
        f"CREATE FUNCTION {DOCUMENT_FUNCTION}({', '.join(c + ' text' for c in DOCUMENT_COLUMNS)}) "
        "RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT "
        f"setweight(to_tsvector('{config}'::regconfig, coalesce({name}, '')), 'A') || "
        f"setweight(to_tsvector('{config}'::regconfig, coalesce({rest}, '')), 'D') $$"
    )
    op.execute(
        f"ALTER TABLE seller_items ADD COLUMN {PG_COLUMN} tsvector GENERATED ALWAYS AS "
        f"({DOCUMENT_FUNCTION}({', '.join(DOCUMENT_COLUMNS)})) STORED"
    )
    op.execute(f"CREATE INDEX {PG_INDEX} ON seller_items USING gin ({PG_COLUMN})")

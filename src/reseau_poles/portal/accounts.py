"""People's accounts on a node's portal: their tables, their passwords, their sessions, the
failed sign-ins that slow an attacker down, and the audit of what each person did.

Each role makes the four tables on its own metadata with :func:`account_tables` (names
``buyer_portal_…`` or ``seller_portal_…``) and its :class:`Accounts` on them::

    PORTAL = account_tables(metadata, "buyer", organisations.c.id)    # in buyer/tables.py
    ACCOUNTS = Accounts(PORTAL, BUYER_ROLES)

``organisation_id`` is the buyer organisation's id on the buyer node, the pôle's (provider)
id on the seller node. Passwords are hashed with argon2id (argon2-cffi); a session is a random
token kept in the browser's cookie, of which the database keeps only the SHA-256 (a stolen
database opens no session), with its CSRF token.

Every method takes a SQLAlchemy ``Session`` (:func:`reseau_poles.storage.write_session` or
``read_session``) and never commits.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from reseau_poles.storage import UTCDateTime, utcnow

from .roles import ADMIN, BUYER_ROLES, SELLER_ROLES

__all__ = ["ADMIN", "BUYER_ROLES", "SELLER_ROLES", "Accounts", "User", "account_tables"]

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256
MAX_EMAIL_LENGTH = 254
MAX_NAME_LENGTH = 255

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


@dataclass(frozen=True)
class AccountTables:
    """A role's four portal tables."""

    users: sa.Table
    sessions: sa.Table
    login_failures: sa.Table
    audit: sa.Table


def account_tables(
    metadata: sa.MetaData, prefix: str, organisation: sa.Column[Any] | None = None
) -> AccountTables:
    """``{prefix}_portal_users``, ``_sessions``, ``_login_failures`` and ``_audit`` on
    ``metadata``; ``organisation``: the column users' ``organisation_id`` refers to."""
    name = f"{prefix}_portal"
    organisation_fk: list[Any] = [sa.ForeignKey(organisation)] if organisation is not None else []
    users = sa.Table(
        f"{name}_users",
        metadata,
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("organisation_id", sa.String(64), *organisation_fk, nullable=False),
        # Lower-cased: one account per address, whatever the case typed.
        sa.Column("email", sa.String(MAX_EMAIL_LENGTH), nullable=False, unique=True),
        sa.Column("name", sa.String(MAX_NAME_LENGTH), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        # Comma list: "acheteur,approbateur".
        sa.Column("roles", sa.String(255), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_login_at", UTCDateTime(), nullable=True),
    )
    sa.Index(f"ix_{name}_users_organisation", users.c.organisation_id)
    sessions = sa.Table(
        f"{name}_sessions",
        metadata,
        # SHA-256 of the cookie's token: the database alone opens no session.
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("user_id", _ID, sa.ForeignKey(users.c.id), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", UTCDateTime(), nullable=False),
        # The absolute end; the idle end is last_seen_at + the portal's idle time.
        sa.Column("expires_at", UTCDateTime(), nullable=False),
    )
    sa.Index(f"ix_{name}_sessions_user", sessions.c.user_id)
    sa.Index(f"ix_{name}_sessions_expires_at", sessions.c.expires_at)
    login_failures = sa.Table(
        f"{name}_login_failures",
        metadata,
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        # "compte:<email>" or "adresse:<ip>"
        sa.Column("key", sa.String(320), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
    )
    sa.Index(f"ix_{name}_login_failures_key", login_failures.c.key, login_failures.c.at)
    audit = sa.Table(
        f"{name}_audit",
        metadata,
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("at", UTCDateTime(), nullable=False),
        # None: done by the command line, or a refused sign-in.
        sa.Column("user_id", _ID, nullable=True),
        sa.Column("organisation_id", sa.String(64), nullable=True),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.String(255), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.Column("address", sa.String(64), nullable=True),
    )
    sa.Index(f"ix_{name}_audit_organisation", audit.c.organisation_id, audit.c.at)
    return AccountTables(users, sessions, login_failures, audit)


# --- values ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class User:
    """A person with an account; ``organisation_name`` is filled where the portal knows it."""

    id: int
    organisation_id: str
    email: str
    name: str
    roles: tuple[str, ...]
    active: bool
    created_at: datetime
    last_login_at: datetime | None = None
    organisation_name: str = field(default="", compare=False)

    def has_role(self, *roles: str) -> bool:
        """Whether the user holds at least one of ``roles``."""
        return any(role in self.roles for role in roles)


@dataclass(frozen=True)
class OpenSession:
    """A session found by its cookie: who, and the CSRF token of its forms."""

    user: User
    csrf_token: str
    token_hash: str
    last_seen_at: datetime


class AccountError(ValueError):
    """A value refused; ``field`` names the form field, ``key`` the catalogue message."""

    def __init__(self, field: str, key: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.key = key


def normalise_email(email: str) -> str:
    return email.strip().lower()


def check_email(email: str) -> str:
    """The address lower-cased, or :class:`AccountError` (``email``)."""
    value = normalise_email(email)
    local, at, domain = value.partition("@")
    if (
        not at
        or not local
        or "." not in domain
        or len(value) > MAX_EMAIL_LENGTH
        or any(c.isspace() for c in value)
    ):
        raise AccountError("email", "champ.courriel_invalide", f"adresse invalide : {email!r}")
    return value


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(
            "password",
            "champ.mot_de_passe_court",
            f"mot de passe trop court ({MIN_PASSWORD_LENGTH} caractères au moins)",
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError("password", "champ.mot_de_passe_long", "mot de passe trop long")
    return password


def check_roles(roles: Iterable[str], allowed: Sequence[str]) -> tuple[str, ...]:
    """The roles, each among ``allowed``, in ``allowed``'s order; at least one."""
    given = {r.strip() for role in roles for r in role.split(",") if r.strip()}
    unknown = given - set(allowed)
    if unknown or not given:
        raise AccountError(
            "roles",
            "champ.roles_invalides",
            f"rôles permis : {', '.join(allowed)} (reçu : {', '.join(sorted(given)) or '—'})",
        )
    return tuple(role for role in allowed if role in given)


# --- passwords ------------------------------------------------------------------------------

_hasher: Any = None
_dummy_hash: str | None = None


def _argon2() -> Any:
    global _hasher
    if _hasher is None:
        from argon2 import PasswordHasher

        _hasher = PasswordHasher()  # argon2id, the library's current recommended costs
    return _hasher


def hash_password(password: str) -> str:
    return str(_argon2().hash(password))


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches; with no hash (no such account) a hash is checked all
    the same, so that the time taken does not tell whether the account exists."""
    from argon2.exceptions import InvalidHashError, VerificationError

    global _dummy_hash
    if password_hash is None:
        if _dummy_hash is None:
            _dummy_hash = hash_password(secrets.token_urlsafe(16))
        password_hash, password = _dummy_hash, password + "\x00"
    try:
        return bool(_argon2().verify(password_hash, password))
    except (VerificationError, InvalidHashError):
        return False


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


# --- the repository -------------------------------------------------------------------------


class Accounts:
    """The SQL of one role's accounts, sessions, sign-in failures and audit."""

    def __init__(self, tables: AccountTables, roles: Sequence[str]) -> None:
        self.tables = tables
        self.roles = tuple(roles)

    # users

    def _user(self, row: sa.RowMapping, organisation_name: str = "") -> User:
        return User(
            id=int(row["id"]),
            organisation_id=row["organisation_id"],
            email=row["email"],
            name=row["name"],
            roles=tuple(r for r in str(row["roles"]).split(",") if r),
            active=bool(row["active"]),
            created_at=row["created_at"],
            last_login_at=row["last_login_at"],
            organisation_name=organisation_name,
        )

    def create_user(
        self,
        session: Session,
        *,
        organisation_id: str,
        email: str,
        name: str,
        roles: Iterable[str],
        password: str | None = None,
        password_hash: str | None = None,
    ) -> User:
        """A new active account; :class:`AccountError` for a bad value or an address taken.
        ``password_hash``: a hash made already by :func:`hash_password` instead of
        ``password`` (the demonstration's accounts share one password, hashed once)."""
        email = check_email(email)
        name = name.strip()
        if not name or len(name) > MAX_NAME_LENGTH:
            raise AccountError("name", "champ.requis", "nom requis")
        chosen = check_roles(roles, self.roles)
        if password_hash is None:
            password_hash = hash_password(check_password(password or ""))
        if self.user_by_email(session, email) is not None:
            raise AccountError("email", "comptes.courriel_pris", f"{email} a déjà un compte")
        values = {
            "organisation_id": organisation_id,
            "email": email,
            "name": name,
            "password_hash": password_hash,
            "roles": ",".join(chosen),
            "active": True,
            "created_at": utcnow(),
            "last_login_at": None,
        }
        user_id = session.execute(
            sa.insert(self.tables.users).values(values).returning(self.tables.users.c.id)
        ).scalar_one()
        return self._user({"id": user_id, **values})  # type: ignore[arg-type]

    def user(self, session: Session, user_id: int) -> User | None:
        users = self.tables.users
        row = session.execute(sa.select(users).where(users.c.id == user_id)).mappings().first()
        return self._user(row) if row else None

    def user_by_email(self, session: Session, email: str) -> User | None:
        users = self.tables.users
        row = (
            session.execute(sa.select(users).where(users.c.email == normalise_email(email)))
            .mappings()
            .first()
        )
        return self._user(row) if row else None

    def password_hash(self, session: Session, email: str) -> tuple[User, str] | None:
        """The active account of ``email`` and its hash (``None``: none active)."""
        users = self.tables.users
        row = (
            session.execute(
                sa.select(users).where(
                    users.c.email == normalise_email(email), users.c.active.is_(True)
                )
            )
            .mappings()
            .first()
        )
        return (self._user(row), row["password_hash"]) if row else None

    def list_users(self, session: Session, organisation_id: str | None = None) -> list[User]:
        """The accounts (of one organisation, or all), by address."""
        users = self.tables.users
        query = sa.select(users).order_by(users.c.organisation_id, users.c.email)
        if organisation_id is not None:
            query = query.where(users.c.organisation_id == organisation_id)
        return [self._user(row) for row in session.execute(query).mappings()]

    def deactivate(self, session: Session, user_id: int) -> bool:
        """The account closed and its sessions ended; ``False`` if it was not active."""
        users = self.tables.users
        result = session.execute(
            sa.update(users)
            .where(users.c.id == user_id, users.c.active.is_(True))
            .values(active=False)
        )
        self.end_sessions(session, user_id)
        return bool(getattr(result, "rowcount", 0))

    def set_password(self, session: Session, user_id: int, password: str) -> None:
        users = self.tables.users
        session.execute(
            sa.update(users)
            .where(users.c.id == user_id)
            .values(password_hash=hash_password(check_password(password)))
        )
        self.end_sessions(session, user_id)

    # sessions

    def open_session(
        self, session: Session, user: User, lifetime: timedelta, now: datetime | None = None
    ) -> tuple[str, str]:
        """A new session: ``(token for the cookie, its CSRF token)``; the sign-in noted."""
        now = now or utcnow()
        token, csrf = new_token(), new_token()
        session.execute(
            sa.insert(self.tables.sessions).values(
                token_hash=token_hash(token),
                user_id=user.id,
                csrf_token=csrf,
                created_at=now,
                last_seen_at=now,
                expires_at=now + lifetime,
            )
        )
        users = self.tables.users
        session.execute(sa.update(users).where(users.c.id == user.id).values(last_login_at=now))
        return token, csrf

    def find_session(
        self, session: Session, token: str, idle: timedelta, now: datetime | None = None
    ) -> OpenSession | None:
        """The live session of ``token`` (its user active, neither idle for longer than
        ``idle`` nor past its end), or ``None``."""
        now = now or utcnow()
        sessions, users = self.tables.sessions, self.tables.users
        row = (
            session.execute(
                sa.select(
                    users,
                    sessions.c.csrf_token,
                    sessions.c.last_seen_at,
                    sessions.c.expires_at,
                    sessions.c.token_hash,
                )
                .join(users, users.c.id == sessions.c.user_id)
                .where(sessions.c.token_hash == token_hash(token))
            )
            .mappings()
            .first()
        )
        if row is None or not row["active"]:
            return None
        if row["expires_at"] <= now or row["last_seen_at"] + idle <= now:
            return None
        return OpenSession(
            self._user(row), row["csrf_token"], row["token_hash"], row["last_seen_at"]
        )

    def touch_session(self, session: Session, hashed: str, now: datetime | None = None) -> None:
        sessions = self.tables.sessions
        session.execute(
            sa.update(sessions)
            .where(sessions.c.token_hash == hashed)
            .values(last_seen_at=now or utcnow())
        )

    def end_session(self, session: Session, token: str) -> None:
        sessions = self.tables.sessions
        session.execute(sa.delete(sessions).where(sessions.c.token_hash == token_hash(token)))

    def end_sessions(self, session: Session, user_id: int) -> None:
        sessions = self.tables.sessions
        session.execute(sa.delete(sessions).where(sessions.c.user_id == user_id))

    def purge_sessions(self, session: Session, idle: timedelta, now: datetime | None = None) -> int:
        """Delete the sessions past their end or idle too long; how many."""
        now = now or utcnow()
        sessions = self.tables.sessions
        result = session.execute(
            sa.delete(sessions).where(
                sa.or_(sessions.c.expires_at <= now, sessions.c.last_seen_at <= now - idle)
            )
        )
        return int(getattr(result, "rowcount", 0) or 0)

    # failed sign-ins

    def failures(self, session: Session, key: str, since: datetime) -> list[datetime]:
        """When ``key`` failed since ``since``, oldest first."""
        table = self.tables.login_failures
        return list(
            session.scalars(
                sa.select(table.c.at)
                .where(table.c.key == key, table.c.at > since)
                .order_by(table.c.at)
            )
        )

    def add_failure(
        self, session: Session, keys: Iterable[str], at: datetime | None = None
    ) -> None:
        at = at or utcnow()
        rows = [{"key": key[:320], "at": at} for key in keys]
        if rows:
            session.execute(sa.insert(self.tables.login_failures), rows)

    def clear_failures(self, session: Session, key: str) -> None:
        table = self.tables.login_failures
        session.execute(sa.delete(table).where(table.c.key == key))

    def purge_failures(self, session: Session, before: datetime) -> int:
        table = self.tables.login_failures
        result = session.execute(sa.delete(table).where(table.c.at <= before))
        return int(getattr(result, "rowcount", 0) or 0)

    # audit

    def audit(
        self,
        session: Session,
        user: User | None,
        action: str,
        target: str | None = None,
        detail: dict[str, Any] | None = None,
        *,
        address: str | None = None,
        organisation_id: str | None = None,
        at: datetime | None = None,
    ) -> None:
        """One audit row: who (``user``, or none for the command line and refused sign-ins),
        what (``action``, e.g. ``compte.cree``), on what (``target``), and how."""
        session.execute(
            sa.insert(self.tables.audit).values(
                at=at or utcnow(),
                user_id=user.id if user else None,
                organisation_id=organisation_id or (user.organisation_id if user else None),
                action=action[:64],
                target=target[:255] if target else None,
                detail=detail,
                address=address[:64] if address else None,
            )
        )

    def audit_rows(
        self, session: Session, organisation_id: str | None = None, limit: int = 100
    ) -> list[dict[str, Any]]:
        """The newest audit rows (of one organisation, or all)."""
        audit = self.tables.audit
        query = sa.select(audit).order_by(audit.c.id.desc()).limit(limit)
        if organisation_id is not None:
            query = query.where(audit.c.organisation_id == organisation_id)
        return [dict(row) for row in session.execute(query).mappings()]

"""People on the buyer node's portal, for the search and cart pages' tests: an account in an
organisation, signed in through the sign-in form, driving the pages with a real httpx client
against the running node (cookies kept, forms posted with the session's CSRF token, redirects
not followed), as a browser without JavaScript would."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from reseau_poles.buyer.web.portal import ACCOUNTS
from reseau_poles.storage import write_session
from tests.portal.support import csrf_of, quick_hashing

PASSWORD = "motdepasse-solide-1"


@pytest.fixture(scope="module")
def quick_argon2() -> Iterator[None]:
    """argon2id at a low cost: these tests sign in often (the format and checks are the
    same)."""
    with quick_hashing():
        yield


def add_person(factory: Any, organisation_id: str, email: str, roles: list[str]) -> int:
    with write_session(factory) as session:
        user = ACCOUNTS.create_user(
            session,
            organisation_id=organisation_id,
            email=email,
            name=email.split("@")[0].replace(".", " ").title(),
            roles=roles,
            password=PASSWORD,
        )
    return user.id


def audit_actions(factory: Any, organisation_id: str) -> list[tuple[str, str | None, int | None]]:
    """(action, target, user id) of the organisation's audit, oldest first."""
    with write_session(factory) as session:
        rows = ACCOUNTS.audit_rows(session, organisation_id, limit=1000)
    return [(row["action"], row["target"], row["user_id"]) for row in reversed(rows)]


@dataclass
class Person:
    """A signed-in person: ``get`` and ``post`` (the session's CSRF token added)."""

    base_url: str
    email: str
    http: httpx.Client = field(init=False)
    csrf: str = ""

    def __post_init__(self) -> None:
        self.http = httpx.Client(base_url=self.base_url, follow_redirects=False, timeout=30)

    def sign_in(self) -> Person:
        page = self.http.get("/portail/connexion")
        assert page.status_code == 200, page.text
        signed = self.http.post(
            "/portail/connexion",
            data={"email": self.email, "password": PASSWORD, "csrf_token": csrf_of(page)},
        )
        assert signed.status_code == 303, signed.text
        self.csrf = csrf_of(self.http.get("/portail/"))
        return self

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.get(path, **kwargs)

    def post(self, path: str, data: dict[str, Any] | None = None, **kwargs: Any) -> httpx.Response:
        return self.http.post(path, data={"csrf_token": self.csrf, **(data or {})}, **kwargs)

    def follow(self, response: httpx.Response) -> httpx.Response:
        """The page a 303 leads to."""
        assert response.status_code == 303, (response.status_code, response.text[:2000])
        return self.get(response.headers["location"])

    def close(self) -> None:
        self.http.close()


def eventually(check: Any, timeout: float = 20.0, every: float = 0.2) -> Any:
    """``check()`` until it returns something true (then that), or fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, "délai dépassé"
        time.sleep(every)

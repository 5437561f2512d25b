"""What the portal's tests share, whichever node they sign in to: the CSRF token of a page,
and argon2id at a low cost (these tests sign in often; the format and checks are the same)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from reseau_poles.portal import accounts as accounts_module

CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(page: httpx.Response) -> str:
    """The CSRF token of a page's form."""
    found = CSRF_INPUT.search(page.text)
    assert found, page.text[:2000]
    return found.group(1)


@contextmanager
def quick_hashing() -> Iterator[None]:
    """Passwords hashed with argon2id at its lowest cost while it lasts."""
    from argon2 import PasswordHasher

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            accounts_module, "_hasher", PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
        )
        patch.setattr(accounts_module, "_dummy_hash", None)
        yield

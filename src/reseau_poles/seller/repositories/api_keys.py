"""A pôle's API keys: the frame's store (:class:`~reseau_poles.participant.api_keys.ApiKeyStore`)
on the seller's table; only their hash is kept, shown by prefix."""

from __future__ import annotations

from reseau_poles.participant.api_keys import ApiKeyStore

from ..tables import api_keys

API_KEY_PREFIX = "rpv_"

KEYS = ApiKeyStore(api_keys, api_keys.c.provider_id, API_KEY_PREFIX)
create_api_key = KEYS.create  # (session, provider_id, label=None) -> the key, shown once
provider_for_api_key = KEYS.owner_of  # (session, key) -> its pôle, or None (unknown, revoked)
list_api_keys = KEYS.list  # (session, provider_id) -> prefix, label, created_at, revoked_at
revoke_api_key = KEYS.revoke  # (session, provider_id, prefix) -> whether one was revoked

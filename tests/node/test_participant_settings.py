"""What every participant is configured with is declared once (ParticipantSettings) and read
the same way by the seller, the buyer and the gateway: same names, same environment
variables, each role's own defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from reseau_poles.buyer.settings import BuyerSettings
from reseau_poles.gateway.settings import GatewaySettings
from reseau_poles.participant.settings import NodeSettings, ParticipantSettings
from reseau_poles.seller.settings import SellerSettings

ROLES = (SellerSettings, BuyerSettings, GatewaySettings)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RESEAU_POLES_CONFIG_FILE", raising=False)
    monkeypatch.delenv("RESEAU_POLES_PRIVATE_NETWORK", raising=False)


@pytest.mark.parametrize(
    ("cls", "subscriber_id", "key_dir", "public_url", "port", "registry_url"),
    [
        (SellerSettings, "vendeur.reseau-poles.example", "data/seller-keys", 8002, 8002, None),
        (BuyerSettings, "acheteur.reseau-poles.example", "data/buyer-keys", 8003, 8003, None),
        (
            GatewaySettings,
            "passerelle.reseau-poles.example",
            "data/gateway-keys",
            8100,
            8100,
            "http://127.0.0.1:8000",
        ),
    ],
)
def test_each_role_keeps_its_defaults(
    cls: type[ParticipantSettings],
    subscriber_id: str,
    key_dir: str,
    public_url: int,
    port: int,
    registry_url: str | None,
) -> None:
    settings = cls()
    assert isinstance(settings, ParticipantSettings)
    assert settings.subscriber_id == subscriber_id
    assert settings.key_dir == Path(key_dir)
    assert settings.public_url == f"http://127.0.0.1:{public_url}"
    assert (settings.host, settings.port) == ("127.0.0.1", port)
    assert settings.registry_url == registry_url
    assert settings.regions == ["*"] and settings.country == "CAN"
    assert (settings.key_expiry_warning_days, settings.key_rotation_overlap_hours) == (30, 48.0)
    assert settings.private_network is False
    assert settings.serve_limit_concurrency == 2048


@pytest.mark.parametrize("cls", ROLES)
def test_the_shared_names_are_read_from_the_same_environment(
    cls: type[ParticipantSettings], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RESEAU_POLES_KEY_EXPIRY_WARNING_DAYS", "7")
    monkeypatch.setenv("RESEAU_POLES_REGISTRY_ENCRYPTION_PUBLIC_KEY", "Y2xl")
    monkeypatch.setenv("RESEAU_POLES_PRIVATE_NETWORK", "true")
    monkeypatch.setenv("RESEAU_POLES_SERVE_BODY_TIMEOUT", "12.5")
    settings = cls()
    assert settings.key_expiry_warning_days == 7
    assert settings.registry_encryption_public_key == "Y2xl"
    assert settings.private_network is True
    assert settings.serve_body_timeout == 12.5


def test_a_node_told_its_network_is_private_tells_its_network_layer() -> None:
    """``private_network`` given to a node's settings in code reaches the network layer (it
    was read from the environment or the file only)."""
    assert NodeSettings(private_network=True).network_settings().private_network is True
    assert SellerSettings().network_settings().private_network is False
    assert BuyerSettings(private_network=True).network_settings().private_network is True


def test_a_node_still_refuses_no_region() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        SellerSettings(regions=[])
    assert GatewaySettings(regions=[]).regions == []

"""What ``reseau-poles demo`` prints once the network is up: who runs where, and a short guided
tour in French, every line ready to paste."""

from __future__ import annotations

import shlex

from rich.console import Console

from .network import DemoNetwork


def print_running(console: Console, net: DemoNetwork) -> None:
    console.print("[bold]Ce qui tourne :[/]")
    for name, what, url, subscriber_id in net.describe():
        console.print(f"  {name:<11} {url:<23} {what}", highlight=False, soft_wrap=True)
        console.print(f"  {'':<11} {'':<23} [dim]{subscriber_id}[/]", highlight=False)
    console.print(
        f"Données : [bold]{net.root}[/] (bases SQLite dans db/, journaux dans logs/, "
        "clés dans keys/, configuration TOML dans config/)",
        highlight=False,
    )


def tour_lines(net: DemoNetwork) -> list[str]:
    """The guided tour, as plain text lines (commands start with two spaces)."""
    buyer = net.buyer.url
    key = net.buyer_api_key
    first = net.sellers[0]
    pole = first.poles[0]
    pole_key = net.pole_api_key(pole.id)
    operator = shlex.quote(str(net.operator_keys_dir))
    admin = f"reseau-poles registry admin --registry {net.registry.url} --keys {operator}"
    return [
        "Visite guidée (copiez-collez les lignes ; jq est facultatif) :",
        "",
        "1. Chercher dans tous les pôles du réseau (la passerelle diffuse à chaque nœud vendeur) :",
        f"  curl -s -X POST {buyer}/api/searches -H 'X-API-Key: {key}' "
        '-H \'Content-Type: application/json\' -d \'{"text": "sirop érable", "region": "*"}\'',
        "   puis, avec le transaction_id reçu :",
        f"  curl -s '{buyer}/api/searches/TRANSACTION_ID?wait_ms=3000' -H 'X-API-Key: {key}'",
        "",
        "2. Commander (une commande par pôle, paiement après livraison, net 30) :",
        f"  curl -s -X POST {buyer}/api/orders -H 'X-API-Key: {key}' "
        "-H 'Content-Type: application/json' -d '{\"bpp_id\": \""
        + first.subscriber_id
        + '", "provider_id": "'
        + pole.id
        + '", "items": [{"id": "sirop-erable-540ml", "quantity": 12}], '
        '"fulfillment": {"type": "livraison", "region": "' + pole.region + "\"}}'",
        f"  curl -s '{buyer}/api/orders/ORDER_ID' -H 'X-API-Key: {key}'",
        "",
        f"3. Le pôle « {pole.provider.name} » fait avancer la livraison (API de gestion du nœud "
        f"vendeur, clé du pôle) :",
        f"  curl -s {first.url}/api/providers/{pole.id}/orders -H 'X-API-Key: {pole_key}'",
        f"  curl -s -X POST {first.url}/api/providers/{pole.id}/orders/ORDER_ID/fulfillment "
        f"-H 'X-API-Key: {pole_key}' -H 'Content-Type: application/json' "
        '-d \'{"state": "Order-delivered"}\'',
        "",
        "4. Le registre, vu par l'opérateur du réseau (requêtes signées avec sa clé) :",
        f"  {admin} list",
        f"  {admin} audit",
        f"  {admin} stats",
        "",
        "Le parcours complet, automatisé : reseau-poles demo --once --transcript messages.jsonl",
        "Documentation de chaque API : "
        f"{buyer}/docs (acheteur), {first.url}/docs (vendeur), {net.registry.url}/docs (registre)",
        "Ctrl-C arrête tout proprement ; la prochaine fois, tout redémarre en quelques secondes.",
    ]


def print_tour(console: Console, net: DemoNetwork) -> None:
    for line in tour_lines(net):
        style = "cyan" if line.startswith("  ") else None
        console.print(line, style=style, highlight=False, soft_wrap=True, markup=False)

"""What ``reseau-poles demo`` prints once the network is up: who runs where, and a short guided
tour in French, every line ready to paste."""

from __future__ import annotations

import json
import shlex
from datetime import datetime, time, timedelta

from rich.console import Console

from reseau_poles.seller.order_view import TIME_ZONE

from .network import DemoNetwork, Participant
from .sample import SamplePole


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


def _tour_pole(net: DemoNetwork) -> tuple[Participant, SamplePole]:
    """The first pôle that delivers refrigerated goods to Capitale-Nationale."""
    for seller in net.sellers:
        for pole in seller.poles:
            for option in pole.fulfillment_options:
                if option.id == "livraison-refrigeree" and "QC-03" in option.regions:
                    return seller, pole
    return net.sellers[0], net.sellers[0].poles[0]


def tour_lines(net: DemoNetwork) -> list[str]:
    """The guided tour, as plain text lines (commands start with two spaces)."""
    buyer = net.buyer.url
    key = f"-H 'X-API-Key: {net.buyer_api_key}'"
    json_body = "-H 'Content-Type: application/json'"
    seller, pole = _tour_pole(net)
    pole_key = f"-H 'X-API-Key: {net.pole_api_key(pole.id)}'"
    # Delivered tomorrow morning (Québec time): the pôle's pick list of that day shows it.
    day = datetime.now(TIME_ZONE).date() + timedelta(days=1)
    window = {
        "start": datetime.combine(day, time(8), TIME_ZONE).isoformat(),
        "end": datetime.combine(day, time(11), TIME_ZONE).isoformat(),
    }
    order = {
        "provider": {"bpp_id": seller.subscriber_id, "id": pole.id},
        "items": [{"id": "sirop-erable-540ml", "quantity": 12}, {"id": "lait-2-4l", "quantity": 6}],
        "fulfilment": {
            "type": "livraison",
            "id": "livraison-refrigeree",
            "address": "1000, boulevard Charest Est, Québec (Québec) G1K 3A9",
            "region": "QC-03",
        },
        "billing": {"name": "Centre de services scolaire Démo (fictif)"},
        "payment": {"type": "POST-FULFILLMENT", "net_days": 30},
        "purchase_order_number": "BC-DEMO-0001",
        "delivery_window": window,
    }
    operator = shlex.quote(str(net.operator_keys_dir))
    admin = f"reseau-poles registry admin --registry {net.registry.url} --keys {operator}"
    pole_api = f"{seller.url}/api/providers/{pole.id}"
    fulfilment = f"{pole_api}/orders/NUMERO_DU_POLE/fulfillment"
    return [
        "Visite guidée, dans un autre terminal (. .venv/bin/activate pour reseau-poles) :",
        "",
        "1. Chercher dans les 25 pôles (la passerelle diffuse la recherche à chaque nœud vendeur) :",
        f"  curl -s -X POST {buyer}/api/searches {key} {json_body} "
        '-d \'{"text": "sirop érable", "region": "*"}\'',
        "   puis, avec le transaction_id reçu (résultats fusionnés par pôle) :",
        f"  curl -s '{buyer}/api/searches/TRANSACTION_ID?wait_ms=5000' {key}",
        "",
        f"2. Commander au pôle « {pole.provider.name} » (devis, puis initialisation et "
        "confirmation ; paiement après livraison, net 30) :",
        f"  curl -s -X POST '{buyer}/api/orders?wait_ms=5000' {key} {json_body} "
        f"-d '{json.dumps(order, ensure_ascii=False)}'",
        "   puis, avec l'id de la commande reçu :",
        f"  curl -s -X POST '{buyer}/api/orders/ID/init?wait_ms=5000' {key} {json_body} -d '{{}}'",
        f"  curl -s -X POST '{buyer}/api/orders/ID/confirm?wait_ms=5000' {key} {json_body} "
        "-d '{}'",
        "   (la réponse donne seller_order_id, le numéro de la commande chez le pôle)",
        "",
        "3. Le pôle la livre (API de gestion de son nœud vendeur, avec la clé du pôle) ; chaque "
        "étape part à l'acheteur en on_status :",
        f"  curl -s {pole_api}/orders {pole_key}",
        "   (chaque commande y montre son bon de commande, l'acheteur, l'adresse, la plage et le "
        "contact ; filtre par numéro de bon de commande :)",
        f"  curl -s '{pole_api}/orders?purchase_order_number=BC-DEMO-0001' {pole_key}",
        f"   liste de préparation du {day.isoformat()} (&format=html -o preparation.html pour "
        "l'imprimer, &format=csv pour un tableur) :",
        f"  curl -s '{pole_api}/pick-list?date={day.isoformat()}' {pole_key}",
        *(
            f'  curl -s -X POST {fulfilment} {pole_key} {json_body} -d \'{{"state": "{state}"}}\''
            for state in ("Packed", "Out-for-delivery", "Order-delivered")
        ),
        f"  curl -s {buyer}/api/orders/ID {key}",
        "   (le stock du sirop et ses mouvements, avec leur motif et la commande :)",
        f"  curl -s {pole_api}/products/sirop-erable-540ml/stock-movements {pole_key}",
        "   (ou, avant l'expédition, l'acheteur annule : "
        f'POST {buyer}/api/orders/ID/cancel -d \'{{"reason_code": "001"}}\')',
        "",
        "4. Le registre, vu par l'opérateur du réseau (requêtes signées avec sa clé) :",
        f"  {admin} list",
        f"  {admin} audit",
        f"  {admin} stats",
        "",
        "Le parcours complet, automatisé : reseau-poles demo --once --transcript messages.jsonl",
        f"Documentation des API : {buyer}/docs (acheteur), {seller.url}/docs (vendeur), "
        f"{net.registry.url}/docs (registre)",
        f"Journaux : {net.root / 'logs'}",
        "Ctrl-C arrête tout proprement ; la prochaine fois, tout redémarre en quelques secondes.",
    ]


def print_tour(console: Console, net: DemoNetwork) -> None:
    for line in tour_lines(net):
        style = "cyan" if line.startswith("  ") else None
        console.print(line, style=style, highlight=False, soft_wrap=True, markup=False)

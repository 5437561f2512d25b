"""What ``reseau-poles demo`` prints once the network is up: who runs where, and a short guided
tour in French, every line ready to paste."""

from __future__ import annotations

import json
import shlex
from datetime import UTC, date, datetime, time, timedelta

from rich.console import Console

from reseau_poles.protocol.profile.delivery_window import QUEBEC
from reseau_poles.storage import utcnow

from .network import DemoNetwork, Participant
from .sample import SamplePole
from .scenario import pick_poles


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
    """The first pôle that delivers refrigerated goods to Capitale-Nationale (the scenario's
    first pick)."""
    picked = pick_poles(net.sellers)
    return picked[0] if picked else (net.sellers[0], net.sellers[0].poles[0])


def _weekday_window() -> tuple[date, dict[str, str]]:
    """A window the tour's pôle accepts: a weekday morning (Québec time), three days ahead at
    least (past any lead time of the sample pôles); and its day, for the pôle's pick list."""
    day = (utcnow() + timedelta(days=3)).astimezone(QUEBEC).date()
    while day.weekday() > 4:
        day += timedelta(days=1)

    def at(hour: int) -> str:
        moment = datetime.combine(day, time(hour), QUEBEC).astimezone(UTC)
        return moment.isoformat().replace("+00:00", "Z")

    return day, {"start": at(9), "end": at(12)}


def tour_lines(net: DemoNetwork) -> list[str]:
    """The guided tour, as plain text lines (commands start with two spaces)."""
    buyer = net.buyer.url
    key = f"-H 'X-API-Key: {net.buyer_api_key}'"
    json_body = "-H 'Content-Type: application/json'"
    seller, pole = _tour_pole(net)
    pole_key = f"-H 'X-API-Key: {net.pole_api_key(pole.id)}'"
    # Delivered on a weekday morning the pôle serves: its pick list of that day shows it.
    day, window = _weekday_window()
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
    cart = {
        "name": "Semaine de la rentrée",
        "fulfilment": order["fulfilment"],
        "delivery_window": window,
        "purchase_order_number": "BC-DEMO-0002",
        "billing": order["billing"],
        "payment": order["payment"],
        "lines": [
            {
                "bpp_id": seller.subscriber_id,
                "provider_id": pole.id,
                "item_id": "sirop-erable-540ml",
                "quantity": 12,
                "fulfilment_id": "livraison-refrigeree",
            }
        ],
    }
    operator = shlex.quote(str(net.operator_keys_dir))
    admin = f"reseau-poles registry admin --registry {net.registry.url} --keys {operator}"
    pole_api = f"{seller.url}/api/providers/{pole.id}"
    fulfilment = f"{pole_api}/orders/NUMERO_DU_POLE/fulfillment"
    products = f"{pole_api}/products"
    return [
        "Visite guidée, dans un autre terminal (. .venv/bin/activate pour reseau-poles) :",
        "",
        "1. Chercher dans les 25 pôles (la passerelle diffuse la recherche à chaque nœud vendeur) :",
        f"  curl -s -X POST {buyer}/api/searches {key} {json_body} "
        '-d \'{"text": "sirop érable", "region": "*"}\'',
        "   puis, avec le transaction_id reçu (résultats fusionnés par pôle, par pertinence) :",
        f"  curl -s '{buyer}/api/searches/TRANSACTION_ID?wait_ms=5000' {key}",
        "   Une recherche large (région « Montréal », « Estrie » ou * ; « légumes ») dépasse ce "
        "qu'un nœud envoie d'un coup : « poles » dit, par pôle, combien d'articles sont trouvés "
        "(matched) et reçus (received), « notice » le dit en français. La suite, à la demande :",
        f"  curl -s -X POST {buyer}/api/searches/TRANSACTION_ID/more {key} {json_body} "
        f'-d \'{{"provider": "{pole.id}"}}\'',
        f"  curl -s '{buyer}/api/searches/TRANSACTION_ID?provider={pole.id}&wait_ms=5000' {key}",
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
        "2 bis. Ou un panier d'établissement (plusieurs pôles, un bon de commande, une plage de "
        "livraison que chaque pôle vérifie : jours, heures, préavis) ; ses lignes sont des "
        "articles vus dans une recherche :",
        f"  curl -s -X POST {buyer}/api/carts {key} {json_body} "
        f"-d '{json.dumps(cart, ensure_ascii=False)}'",
        "   le prix avant de commander, pôle par pôle (lignes, TPS et TVQ, frais de livraison, "
        "commande minimale atteinte ou non), puis la commande (une par pôle et mode) :",
        f"  curl -s -X POST '{buyer}/api/carts/PANIER/preview?wait_ms=5000' {key}",
        f"  curl -s -X POST '{buyer}/api/carts/PANIER/checkout?wait_ms=15000' {key}",
        "   un pôle en échec se recommande seul (les autres ne sont pas commandés deux fois) :",
        f"  curl -s -X POST '{buyer}/api/carts/PANIER/retry?wait_ms=15000' {key}",
        f"  curl -s '{buyer}/api/orders?purchase_order_number=BC-DEMO-0002' {key}",
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
        f"  {admin} expiring-keys --within-days 400",
        "",
        "5. Le catalogue du pôle en CSV : l'exporter, le retoucher dans un tableur, le réimporter "
        "(tout ou rien ; en formulaire comme ici, ou en corps text/csv avec --data-binary) :",
        f"  curl -s {products}/export {pole_key} -o produits.csv",
        f"  curl -s -X POST {products}/import {pole_key} -F file=@produits.csv",
        "",
        "Le parcours complet, automatisé : reseau-poles demo --once --transcript messages.jsonl",
        f"Documentation des API : {buyer}/docs (acheteur), {seller.url}/docs (vendeur), "
        f"{net.registry.url}/docs (registre)",
        f"Le portail, dans un navigateur : {buyer}/portail/ (établissements), "
        f"{seller.url}/gestion/ (pôles) ; comptes et mot de passe plus haut.",
        f"Journaux : {net.root / 'logs'}",
        "Ctrl-C arrête tout proprement ; la prochaine fois, tout redémarre en quelques secondes.",
    ]


def print_tour(console: Console, net: DemoNetwork) -> None:
    for line in tour_lines(net):
        style = "cyan" if line.startswith("  ") else None
        console.print(line, style=style, highlight=False, soft_wrap=True, markup=False)

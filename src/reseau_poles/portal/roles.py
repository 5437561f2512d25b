"""The roles of the portal's people (no import: the command line's help reads them).

Buyer node (an institution): ``acheteur`` builds carts and orders, ``approbateur`` confirms
them, ``admin`` manages the organisation's accounts. Seller node (a pôle): ``gestion`` keeps
the catalogue and the orders, ``preparation`` prepares the orders, ``admin`` manages the
pôle's accounts. A person may hold several.
"""

BUYER_ROLES = ("acheteur", "approbateur", "admin")
SELLER_ROLES = ("gestion", "preparation", "admin")
ADMIN = "admin"

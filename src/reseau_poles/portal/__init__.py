"""The portal's frame: server-rendered pages for people, shared by the buyer node
(``/portail``, institutions) and the seller node (``/gestion``, pôles' staff).

Like :mod:`reseau_poles.participant`, it is written once and imports no role. Its parts:

* :mod:`.site` — :class:`~.site.Portal`, what a role says of its portal (prefix, accounts,
  navigation, templates), and :class:`~.site.NavLink`;
* :mod:`.templating` — :func:`~.templating.render` (whole page, or the fragment htmx asks
  for, ``Vary: HX-Request``), the Jinja2 globals and filters;
* :mod:`.i18n` and ``messages/*.toml`` — the one catalogue (French, English), money, numbers
  and dates per language;
* :mod:`.accounts` — the tables (:func:`~.accounts.account_tables`), users, argon2
  passwords, sessions, sign-in failures, audit (:class:`~.accounts.Accounts`);
* :mod:`.auth` — :data:`~.auth.CurrentUser`, :func:`~.auth.require_role`, CSRF,
  :func:`~.auth.audit`, :func:`~.auth.see_other`, :class:`~.auth.PageError`;
* :mod:`.forms` — :func:`~.forms.read_form`: fields read, checked, refused by field;
* :mod:`.routes` — :func:`~.routes.install_portal`: sign-in, sign-out, language, accounts
  page, static files, error pages; :mod:`.errors` — every failure as a page;
* :mod:`.timing` — ``Server-Timing: app;dur=…`` on every answer of the pages;
* :mod:`.cli` — ``reseau-poles buyer|seller accounts create|list|deactivate``.

Nothing heavy is imported here: the command line imports :mod:`.cli` for its help pages.
"""

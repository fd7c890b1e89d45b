"""The search site: one Django app (pages + JSON API) over any ``IndexSource``.

``site.SearchSite`` is the model (searches, terms, documents, the index overview);
``views`` and ``api`` are thin views over it, ``settings`` builds safe-by-default
settings, ``server`` serves the WSGI application with waitress. No database.
"""

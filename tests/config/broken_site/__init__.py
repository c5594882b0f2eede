"""A site with a broken admin module and a broken URL pattern, for the start-up tests: they run
``manage.py check`` under ``tests.config.broken_site.settings`` and expect both to be reported."""

"""What the tests share that is not a fixture: stand-ins for the services the project talks to
and helpers that know nothing of one app's rules.

- ``openedx_server``, ``smtp_server``, ``cybersource_server``, ``postgres_proxy``: real servers
  on loopback speaking Open edX's HTTP API, SMTP, CyberSource Secure Acceptance and PostgreSQL's
  wire protocol, so the code under test goes through its real client.
- ``databases``: the test database seen from outside (its URL for a child process, another
  client's raw connection, who waits on a lock, deadlocks so far).
- ``races``: threads with connections of their own, started together or waited on.
- ``commands``: management commands run in the test process or in a child process of their own.
- ``forms``: a rendered HTML form as a browser submits it.
- ``imports``: a source file's imports read without importing it.
- ``factories``: factory_boy factories for every model.

Per-app helpers live in ``tests/<app>/helpers.py``; fixtures live in ``conftest.py`` files, and
nothing is imported from a conftest or from a test module.
"""

"""The health report: what is wrong in the system, one finding per problem, with how to fix it.

- ``data``: ``HealthData``, what b2b's checks read, once per report;
- ``checks``: b2b's own checks (caps, codes and products against the rules, run dates, code
  reconciliations, fulfilled orders without their membership, invitation work);
- ``report``: ``health_report`` runs them and every check the other apps contribute through
  ``config.health_registry`` (ecommerce's orders and codes, courses' Open edX copies and
  enrollment pushes), errors first;
- ``repair``: ``repair_findings``, what ``--fix`` does unattended;
- ``notify``: ``notify_staff``, the periodic report's log lines and mail.

Entry points: ``manage.py b2b_health``, the Wagtail dashboard's panel (``b2b.panels``) and the
periodic task (``b2b.tasks``, every ``B2B_HEALTH_INTERVAL_SECONDS``).
"""

"""Project configuration: settings, URLs, the Celery app and the WSGI entry point.

The Celery app (``config.celery``) is not imported here: Celery's Django recipe imports it from
this package so that every process has it, but then every ``manage.py`` command pays for Celery
and kombu at start-up. It is imported where it is used instead: by the worker and beat
(``celery -A config`` finds ``config.celery``), by ``config.queueing`` when a task is sent, and
by each task module (its tasks are the app's own, ``@app.task``).
"""

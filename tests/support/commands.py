"""Management commands run for a test: in the test's own process (``call_command_output``), or
in a process of their own, as many times as the test asks (the runner, ``main``).

The runner is started as ``python -m tests.support.commands`` with the environment of an
operator's shell (DATABASE_URL, CELERY_BROKER_URL...). Django starts once; then each line read
on stdin is a JSON list of arguments (``["b2b_contract", "modify", "7", "--max-learners",
"20"]``), and each answer on stdout is one JSON object: the command's stdout, stderr, the log
lines it wrote, and its error (the CommandError message, or the type and first line of anything
else). Several runners give a test real parallel operators without paying Django's start-up for
each command.
"""

import io
import json
import logging
import os
import sys
import traceback


def call_command_output(*args: str) -> str:
    """A management command's standard output, for tests that run it without the
    ``run_command`` fixture (its standard error is dropped)."""
    from django.core.management import call_command

    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.levelname} {record.name}: {record.getMessage()}")


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.core.management.base import CommandError
    from django.db import connection

    answers = sys.stdout
    print(json.dumps({"ready": True}), file=answers, flush=True)
    for line in sys.stdin:
        argv = json.loads(line)
        out, err, logged = io.StringIO(), io.StringIO(), _Lines()
        logging.getLogger().addHandler(logged)
        error = None
        try:
            call_command(*argv, stdout=out, stderr=err)
        except CommandError as exc:
            error = f"CommandError: {exc}"
        except Exception as exc:  # reported to the test, which fails on it
            error = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            traceback.print_exc()
        finally:
            logging.getLogger().removeHandler(logged)
            connection.close()
        answer = {
            "stdout": out.getvalue(),
            "stderr": err.getvalue(),
            "log": logged.lines,
            "error": error,
        }
        print(json.dumps(answer), file=answers, flush=True)


if __name__ == "__main__":
    main()

"""`.ci/services.sh`, which `make test` and `.ci/run` use to have PostgreSQL, Redis and Chromium.

The decisions are tested by running the script as `make test` does: with the programs it looks
for taken off PATH (one line, exit 1, nothing started), with a fake apt-get standing in for the
package manager, and for real: a private redis-server and a private PostgreSQL cluster started
on unused ports (never the shared servers), used again on the next run, then stopped.
"""

import os
import socket
import stat
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import urlparse

import pytest
import redis
from django.db import connection

SCRIPT = Path(__file__).resolve().parents[2] / ".ci" / "services.sh"


def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def state_dir():
    """A state folder the postgres user can reach (pytest's tmp_path is private to us)."""
    folder = Path(tempfile.mkdtemp(prefix="services-test-"))
    folder.chmod(0o755)
    yield folder
    subprocess.run(["/bin/bash", SCRIPT, "--stop"], env=_env(folder), capture_output=True)
    subprocess.run(["rm", "-rf", str(folder)], check=True)


def _env(state_dir: Path, **overrides: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"TEST_DATABASE_URL", "TEST_REDIS_URL", "CHROMIUM_PATH"}
    }
    return {**env, "TEST_SERVICES_DIR": str(state_dir), **overrides}


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["/bin/bash", SCRIPT, *args], env=env, capture_output=True, text=True, timeout=180
    )


def exports(result: subprocess.CompletedProcess) -> dict[str, str]:
    pairs = [line.removeprefix("export ").split("=", 1) for line in result.stdout.splitlines()]
    return dict(pairs)


@pytest.fixture
def bare_path(tmp_path) -> str:
    """A PATH with none of the programs the script looks for."""
    empty = tmp_path / "bin"
    empty.mkdir()
    return str(empty)


def _stripped(state_dir, bare_path, **overrides):
    """Nothing installed, nothing answering at the addresses (unused ports)."""
    nothing = {
        "PATH": bare_path,
        "POSTGRES_BIN_DIRS": "/nonexistent/*/bin",
        "TEST_DATABASE_URL": f"postgres://postgres@127.0.0.1:{unused_port()}/b2b",
        "TEST_REDIS_URL": f"redis://127.0.0.1:{unused_port()}/15",
        "CHROMIUM_PATH": "/nonexistent/chromium",
    }
    return _env(state_dir, **{**nothing, **overrides})


def test_nothing_installed_stops_at_once_with_one_line(state_dir, bare_path):
    result = run(_stripped(state_dir, bare_path))

    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (
        "services: install PostgreSQL, Redis and Chromium (apt-get install postgresql "
        "redis-server chromium), or set TEST_DATABASE_URL, TEST_REDIS_URL and CHROMIUM_PATH "
        "to yours\n"
    )
    assert list(state_dir.iterdir()) == []  # nothing was started or written


@pytest.mark.redis
def test_only_what_is_missing_is_named(state_dir, bare_path, redis_url):
    chromium = state_dir / "chromium"
    chromium.write_text("#!/bin/sh\n")
    chromium.chmod(0o755)
    env = _stripped(state_dir, bare_path, TEST_REDIS_URL=redis_url, CHROMIUM_PATH=str(chromium))

    result = run(env)

    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (
        "services: install PostgreSQL (apt-get install postgresql), or set TEST_DATABASE_URL "
        "to yours\n"
    )


def _fake_apt_get(bare_path: str, record: Path) -> None:
    """Stands in for the package manager: records its arguments, installs nothing."""
    fake = Path(bare_path) / "apt-get"
    fake.write_text(f'#!/bin/bash\necho "$*" >> {record}\n')
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def test_as_root_the_missing_packages_are_installed_with_apt_get(state_dir, bare_path, tmp_path):
    record = tmp_path / "apt-get.log"
    _fake_apt_get(bare_path, record)

    result = run(_stripped(state_dir, bare_path))

    if os.geteuid() == 0:
        assert record.read_text().splitlines() == [
            "-o DPkg::Lock::Timeout=600 update -qq",
            "-o DPkg::Lock::Timeout=600 install -y -qq postgresql redis-server chromium",
        ]
    else:  # only root installs packages
        assert not record.exists()
    # The fake installed nothing: still missing, so the one line and exit 1.
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1].startswith("services: install PostgreSQL, Redis and")


@pytest.mark.parametrize("how", [["--no-install"], []])
def test_installing_can_be_turned_off(state_dir, bare_path, tmp_path, how):
    record = tmp_path / "apt-get.log"
    _fake_apt_get(bare_path, record)
    env = _stripped(state_dir, bare_path, **({} if how else {"TEST_SERVICES_INSTALL": "never"}))

    result = run(env, *how)

    assert not record.exists()
    assert result.returncode == 1
    assert len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        (
            "TEST_DATABASE_URL",
            "mysql://root@127.0.0.1/b2b",
            "services: the database URL must look like postgres://user@host:port/name, "
            "not mysql://root@127.0.0.1/b2b\n",
        ),
        (
            "TEST_REDIS_URL",
            "http://127.0.0.1:6379",
            "services: the Redis URL must look like redis://host:port/db, "
            "not http://127.0.0.1:6379\n",
        ),
        ("TEST_SERVICES_INSTALL", "yes", "services: TEST_SERVICES_INSTALL must be auto or never"),
    ],
)
def test_bad_settings_are_one_line(state_dir, variable, value, message):
    result = run(_env(state_dir, **{variable: value}))
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.startswith(message) and result.stderr.count("\n") == 1


def _database_url() -> str:
    settings = connection.settings_dict
    return f"postgres://postgres@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}/b2b"


def _pong(url: str) -> bool:
    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        return client.ping()
    except redis.exceptions.ConnectionError:
        return False
    finally:
        client.close()


@pytest.mark.postgres
@pytest.mark.programs("redis-server")
def test_redis_is_started_on_an_unused_port_used_again_then_stopped(state_dir):
    port = unused_port()
    env = _env(state_dir, TEST_DATABASE_URL=_database_url())
    env["TEST_REDIS_URL"] = f"redis://127.0.0.1:{port}/3"

    first = run(env, "--no-browser")

    assert first.returncode == 0, first.stderr
    assert exports(first) == {
        "TEST_DATABASE_URL": _database_url(),
        "TEST_REDIS_URL": f"redis://127.0.0.1:{port}/3",
    }
    assert f"services: starting a private redis-server on port {port}\n" in first.stderr
    assert _pong(f"redis://127.0.0.1:{port}/3")

    again = run(env, "--no-browser")
    assert (again.returncode, again.stdout) == (0, first.stdout)
    assert "starting" not in again.stderr

    stopped = run(env, "--stop")
    assert stopped.returncode == 0
    assert "services: stopped the private redis-server (pid " in stopped.stderr
    assert not _pong(f"redis://127.0.0.1:{port}/3")


@pytest.mark.postgres
@pytest.mark.programs("redis-server")
def test_a_port_held_by_something_else_moves_redis_to_a_free_port(state_dir):
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        env = _env(
            state_dir,
            TEST_DATABASE_URL=_database_url(),
            TEST_REDIS_URL=f"redis://127.0.0.1:{taken}/15",
        )
        result = run(env, "--no-browser")

    assert result.returncode == 0, result.stderr
    chosen = urlparse(exports(result)["TEST_REDIS_URL"])
    assert chosen.port != taken
    assert _pong(chosen.geturl())


@pytest.mark.redis
@pytest.mark.programs("initdb", "pg_ctl", "psql")
def test_a_private_postgres_cluster_on_an_unused_port(state_dir, redis_url):
    import psycopg

    port = unused_port()
    wanted = f"postgres://postgres@127.0.0.1:{port}/b2b"
    env = _env(state_dir, TEST_DATABASE_URL=wanted, TEST_REDIS_URL=redis_url)

    result = run(env, "--no-browser")

    assert result.returncode == 0, result.stderr
    assert exports(result) == {"TEST_DATABASE_URL": wanted, "TEST_REDIS_URL": redis_url}
    assert "services: creating a private PostgreSQL cluster in" in result.stderr
    with psycopg.connect(f"postgresql://postgres@127.0.0.1:{port}/postgres") as db:
        assert db.execute("select 1").fetchone() == (1,)

    again = run(env, "--no-browser")
    assert (again.returncode, again.stdout) == (0, result.stdout)
    assert "creating" not in again.stderr and "starting" not in again.stderr

    assert "stopped the private PostgreSQL cluster" in run(env, "--stop").stderr
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(f"postgresql://postgres@127.0.0.1:{port}/postgres", connect_timeout=2)


@pytest.mark.programs("initdb", "pg_ctl")
def test_a_failure_stops_what_the_run_started(state_dir, tmp_path):
    """The private cluster is up when redis-server fails: the run stops it again."""
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "redis-server").write_text("#!/bin/sh\necho 'cannot start' >&2\nexit 1\n")
    (broken / "redis-server").chmod(0o755)
    port, redis_port = unused_port(), unused_port()
    env = _env(
        state_dir,
        PATH=f"{broken}:{os.environ['PATH']}",
        TEST_DATABASE_URL=f"postgres://postgres@127.0.0.1:{port}/b2b",
        TEST_REDIS_URL=f"redis://127.0.0.1:{redis_port}/15",
    )

    result = run(env, "--no-browser")

    assert (result.returncode, result.stdout) == (1, "")
    assert "services: creating a private PostgreSQL cluster in" in result.stderr
    assert result.stderr.splitlines()[-1] == (
        f"services: redis-server did not start on port {redis_port} (see {state_dir}/redis.log)"
    )
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0  # the cluster was stopped

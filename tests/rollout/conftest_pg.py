"""A throwaway PostgreSQL server for the database tests: initdb + pg_ctl on 127.0.0.1.

``start()`` returns ``(server, None)`` or ``(None, reason)``. The cluster lives in a temp
dir, listens on a free loopback port with fsync off, trusts local connections as the
superuser ``drill``, and is stopped (immediate mode) and deleted by ``server.stop()``.
initdb refuses to run as root: as root the server runs as the ``postgres`` OS user,
or as a system user ``rollout-drill-pg`` created for it when there is none.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

SUPERUSER = "drill"
OS_USERS = ("postgres", "rollout-drill-pg")


@dataclass
class PgServer:
    root: Path
    port: int
    pg_ctl: str
    run_as: list[str]

    @property
    def dsn(self) -> str:
        return self.dsn_for("postgres")

    def dsn_for(self, database: str) -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        import psycopg
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name} TEMPLATE template0")
        return self.dsn_for(name)

    def drop_database(self, name: str) -> None:
        import psycopg
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def stop(self) -> None:
        subprocess.run([*self.run_as, self.pg_ctl, "-D", str(self.root / "data"), "-m",
                        "immediate", "-w", "stop"], capture_output=True, timeout=60,
                       check=False)
        shutil.rmtree(self.root, ignore_errors=True)


def start() -> tuple[PgServer | None, str | None]:
    """Start a server, or say why not (no psycopg, no initdb/pg_ctl, no OS user, failure)."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return None, "psycopg is not installed (pip install 'psycopg[binary]')"
    initdb, pg_ctl = _tool("initdb"), _tool("pg_ctl")
    if not (initdb and pg_ctl):
        return None, "initdb/pg_ctl not found on PATH or in /usr/lib/postgresql/*/bin"
    run_as, owner = _run_as()
    if run_as is None:
        return None, owner
    root = Path(tempfile.mkdtemp(prefix="rollout-drill-pg-"))
    try:
        return _start(root, initdb, pg_ctl, run_as, owner), None
    except (OSError, subprocess.SubprocessError) as exc:
        shutil.rmtree(root, ignore_errors=True)
        return None, f"could not start PostgreSQL: {exc}"


def _start(root: Path, initdb: str, pg_ctl: str, run_as: list[str], owner: str) -> PgServer:
    if owner:
        user = pwd.getpwnam(owner)
        os.chown(root, user.pw_uid, user.pw_gid)
    data, port = root / "data", _free_port()
    _run([*run_as, initdb, "-D", str(data), "-A", "trust", "-U", SUPERUSER, "-E", "UTF8",
          "--locale=C", "--no-sync"])
    options = (f"-k {root} -p {port} -c listen_addresses=127.0.0.1 -c fsync=off "
               "-c synchronous_commit=off -c full_page_writes=off")
    _run([*run_as, pg_ctl, "-D", str(data), "-o", options, "-l", str(root / "log"), "-w",
          "-t", "30", "start"])
    return PgServer(root, port, pg_ctl, run_as)


def _tool(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def _run_as() -> tuple[list[str] | None, str]:
    """The command prefix that drops root, and the OS user (empty when not root)."""
    if os.geteuid() != 0:
        return [], ""
    runuser = shutil.which("runuser")
    if runuser is None:
        return None, "running as root and runuser is missing"
    for name in OS_USERS:
        try:
            pwd.getpwnam(name)
            return [runuser, "-u", name, "--"], name
        except KeyError:
            continue
    useradd = shutil.which("useradd")
    if useradd is None:
        return None, "running as root, no postgres user and no useradd to create one"
    subprocess.run([useradd, "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                    OS_USERS[-1]], capture_output=True, check=False)
    try:
        pwd.getpwnam(OS_USERS[-1])
    except KeyError:
        return None, f"could not create the OS user {OS_USERS[-1]}"
    return [runuser, "-u", OS_USERS[-1], "--"], OS_USERS[-1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run(argv: list[str]) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        tool = next(Path(a).name for a in argv if a.endswith(("initdb", "pg_ctl")))
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise subprocess.SubprocessError(f"{tool} exit {done.returncode}: {' / '.join(tail)}")

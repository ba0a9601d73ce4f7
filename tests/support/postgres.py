"""A private PostgreSQL cluster for one test (initdb + pg_ctl on a free 127.0.0.1 port), the
way scripts/test starts its own: a test may restart or stop it without touching the suite's
database. Run as the ``postgres`` user when the tests run as root (PostgreSQL refuses root)."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.support.servers import free_port


def pg_bin() -> Path | None:
    """The real bin directory (pg_ctl on PATH may be a lone symlink without initdb beside it)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
                   key=lambda p: [int(x) for x in p.split("/")[4].split(".") if x.isdigit()])
    exe = found[-1] if found else shutil.which("pg_ctl")
    if not exe:
        return None
    path = Path(os.path.realpath(exe)).parent
    return path if (path / "initdb").exists() else None


class PrivateCluster:
    def __init__(self) -> None:
        bindir = pg_bin()
        if bindir is None:
            raise RuntimeError("PostgreSQL binaries are missing (scripts/test installs them)")
        self.bin = bindir
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="lti-badges-pg-"))
        self.data = self.root / "data"
        self._as_root = os.geteuid() == 0
        if self._as_root:
            if subprocess.run(["id", "postgres"], capture_output=True).returncode != 0:
                subprocess.run(["useradd", "--system", "--no-create-home", "postgres"], check=True)
            shutil.chown(self.root, "postgres")
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8")
        self.start()
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "lti")

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/lti"

    def _run(self, tool: str, *args: str) -> None:
        cmd = [str(self.bin / tool), *args]
        if self._as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       timeout=120)

    def _ctl(self, *args: str) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "log"), "-w", *args)

    def start(self) -> None:
        self._ctl("-o", f"-c listen_addresses=127.0.0.1 -c port={self.port} "
                        f"-c unix_socket_directories={self.root} -c fsync=off", "start")

    def restart(self, mode: str = "fast") -> None:
        """``fast``: connections are told to go; ``immediate``: the server just dies."""
        self._ctl("-m", mode, "-o", f"-c listen_addresses=127.0.0.1 -c port={self.port} "
                                    f"-c unix_socket_directories={self.root} -c fsync=off",
                  "restart")

    def stop(self) -> None:
        try:
            self._ctl("-m", "immediate", "stop")
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.root, ignore_errors=True)

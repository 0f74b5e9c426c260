"""A real IMAP server for the tests: Debian's dovecot in a temp dir on 127.0.0.1.

Runs ``dovecot -F -c <conf>`` in the foreground as a subprocess, with one
passwd-file user and a maildir under the temp dir. When the tests run as
root, dovecot's internal and login processes run as the unprivileged
``dovecot``/``dovenull`` users and mail is owned by ``dovecot``.

CI needs the apt package ``dovecot-imapd`` (it pulls ``dovecot-core``).
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

DOVECOT = "/usr/sbin/dovecot"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class DovecotServer:
    def __init__(self, user: str = "hotline@example.gov.cn", password: str = "s3cret-imap") -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="hotline-dovecot-"))
        os.chmod(self.dir, 0o755)
        self.port = free_port()
        self.user = user
        self.password = password
        self.proc: subprocess.Popen | None = None
        self._pool = [(f"user{i:03d}@hotline.example.gov.cn", f"pw-{os.urandom(6).hex()}") for i in range(300)]
        self._taken = 0
        if os.geteuid() == 0:
            self.internal_user = "dovecot"
            self.login_user = "dovenull"
            self.mail_user = "dovecot"
        else:
            me = pwd.getpwuid(os.geteuid()).pw_name
            self.internal_user = self.login_user = self.mail_user = me
        pw = pwd.getpwnam(self.mail_user)
        self.mail_uid, self.mail_gid = pw.pw_uid, pw.pw_gid

    @property
    def maildir(self) -> Path:
        return self.dir / "mail" / self.user

    def _config(self) -> str:
        group = grp.getgrgid(self.mail_gid).gr_name
        d = self.dir
        return f"""
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {self.internal_user}
default_internal_group = {grp.getgrgid(pwd.getpwnam(self.internal_user).pw_gid).gr_name}
default_login_user = {self.login_user}
first_valid_uid = {min(self.mail_uid, 1)}
first_valid_gid = 0
mail_uid = {self.mail_uid}
mail_gid = {self.mail_gid}
mail_privileged_group = {group}
mail_location = maildir:{d}/mail/%u
namespace inbox {{
  inbox = yes
  separator = /
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {d}/passwd
}}
userdb {{
  driver = static
  args = uid={self.mail_uid} gid={self.mail_gid} home={d}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""

    def start(self) -> "DovecotServer":
        if not Path(DOVECOT).exists():
            raise RuntimeError("dovecot not found: apt-get install dovecot-imapd")
        version = subprocess.run([DOVECOT, "--version"], capture_output=True, text=True).stdout.strip()
        if not version.startswith("2.3."):
            # 2.4 (Debian trixie) renamed most settings used below.
            raise RuntimeError(f"the test IMAP server config is written for dovecot 2.3, found {version!r}")
        for sub in ("run", "state", "mail"):
            (self.dir / sub).mkdir()
        users = [(self.user, self.password), *self._pool]
        (self.dir / "passwd").write_text("".join(f"{u}:{{PLAIN}}{p}\n" for u, p in users))
        for sub in ("state", "mail"):
            os.chown(self.dir / sub, self.mail_uid, self.mail_gid)
        conf = self.dir / "dovecot.conf"
        conf.write_text(self._config())
        self.proc = subprocess.Popen([DOVECOT, "-F", "-c", str(conf)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, start_new_session=True)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"dovecot exited: {self.proc.stderr.read().decode()} {self.log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    if s.recv(100).startswith(b"* OK"):
                        return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"dovecot did not start: {self.log()}")

    def take_user(self) -> tuple[str, str]:
        """A fresh passwd-file user with an empty maildir: one per test.

        The users are written before dovecot starts (it re-reads a changed
        passwd-file at most once a second, which would race the tests).
        """
        self._taken += 1
        if self._taken > len(self._pool):
            raise RuntimeError("dovecot test user pool exhausted")
        return self._pool[self._taken - 1]

    def log(self) -> str:
        path = self.dir / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

"""A real IMAP server for the tests: Debian's Dovecot (dovecot-imapd), started on loopback with
its own configuration, a passwd-file per user and Maildir mailboxes under a temporary directory.
`.ci/run` installs it; a machine without it fails these tests with that instruction."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

from imapclient import IMAPClient

from local.run import free_port

CONFIG = """
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
{tls}
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{root}/mail/%u
first_valid_uid = 1
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {root}/users/%u
}}
userdb {{
  driver = passwd-file
  args = {root}/users/%u
}}
service imap-login {{
  inet_listener imap {{
    port = {port}
  }}
  inet_listener imaps {{
    port = {tls_port}
  }}
  chroot =
}}
service anvil {{
  chroot =
}}
"""


class Dovecot:
    def __init__(self, certificate: tuple | None = None):
        """certificate: (cert path, key path) for imaps:// and STARTTLS; without it, plain IMAP."""
        if shutil.which("dovecot") is None:
            raise RuntimeError("Dovecot is not installed: apt-get install dovecot-imapd (.ci/run does)")
        self.root = Path(tempfile.mkdtemp(prefix="dovecot-"))
        self.port = free_port()
        self.certificate = certificate
        self.tls_port = free_port() if certificate else 0
        self.config = self.root / "dovecot.conf"
        # Dovecot never gives mail to uid 0: as root, the mailboxes belong to nobody.
        account = pwd.getpwnam("nobody") if os.geteuid() == 0 else pwd.getpwuid(os.geteuid())
        self.uid, self.gid = account.pw_uid, account.pw_gid
        self.users: dict[str, str] = {}
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Dovecot:
        self.root.chmod(0o755)  # Dovecot's auth process reads the passwd-file as its own user
        for folder in ("run", "state", "mail", "home", "users"):
            (self.root / folder).mkdir()
        os.chown(self.root / "mail", self.uid, self.gid)
        os.chown(self.root / "home", self.uid, self.gid)
        tls = (
            f"ssl = yes\nssl_cert = <{self.certificate[0]}\nssl_key = <{self.certificate[1]}"
            if self.certificate
            else "ssl = no"
        )
        self.config.write_text(CONFIG.format(root=self.root, port=self.port, tls=tls, tls_port=self.tls_port))
        self.process = subprocess.Popen(["dovecot", "-F", "-c", str(self.config)])
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                IMAPClient("127.0.0.1", port=self.port, ssl=False, timeout=2).shutdown()
                return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"Dovecot did not start: {(self.root / 'dovecot.log').read_text()}")

    def __exit__(self, *exc) -> None:
        if self.process:
            self.process.terminate()
            self.process.wait(10)
        shutil.rmtree(self.root, ignore_errors=True)

    def add_user(self, user: str, password: str) -> None:
        self.users[user] = password
        # A passwd-file of its own: a new file is read at once, a changed one only when Dovecot
        # notices its mtime (whole seconds) changed.
        line = f"{user}:{{PLAIN}}{password}:{self.uid}:{self.gid}::{self.root}/home/{user}\n"
        (self.root / "users" / user).write_text(line)

    def url(self, user: str, password: str | None = None) -> str:
        secret = self.users[user] if password is None else password
        return f"imap://{quote(user, safe='')}:{quote(secret, safe='')}@127.0.0.1:{self.port}"

    def client(self, user: str) -> IMAPClient:
        client = IMAPClient("127.0.0.1", port=self.port, ssl=False, timeout=10)
        client.login(user, self.users[user])
        return client

    def append(self, user: str, *messages: bytes) -> None:
        """Puts messages in the user's INBOX with IMAP APPEND, as a mail server delivering them would."""
        client = self.client(user)
        try:
            for raw in messages:
                client.append("INBOX", raw)
        finally:
            client.logout()

    def deliver_to_maildir(self, user: str, messages: list[bytes]) -> None:
        """Many messages at once, as a delivery agent writes them: each a file in the user's
        Maildir new/, which Dovecot takes in on the next SELECT (APPEND takes a round trip each)."""
        maildir = self.root / "mail" / user
        for folder in ("new", "cur", "tmp"):
            (maildir / folder).mkdir(parents=True, exist_ok=True)
        stamp = int(time.time())
        for i, raw in enumerate(messages):
            path = maildir / "new" / f"{stamp}.M{i}P{os.getpid()}.outreach-test"
            path.write_bytes(raw)
            os.chown(path, self.uid, self.gid)
        for path in [maildir, *maildir.iterdir()]:
            os.chown(path, self.uid, self.gid)

    def set_uidvalidity(self, user: str, value: int) -> None:
        """Renumbers the INBOX, as a server does after its index is rebuilt."""
        subprocess.run(
            [
                "doveadm",
                "-c",
                str(self.config),
                "mailbox",
                "update",
                "-u",
                user,
                "--uid-validity",
                str(value),
                "INBOX",
            ],
            check=True,
            capture_output=True,
        )

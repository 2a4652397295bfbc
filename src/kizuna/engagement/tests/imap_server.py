"""A real IMAP server for tests: a private Dovecot (Debian's dovecot-imapd) on a free port.

`ImapServer.start()` writes a config of its own in a fresh temporary directory (passwd-file
with one user, Maildir, its own base_dir/state_dir, plaintext login on 127.0.0.1 without
TLS), runs `dovecot -F -c <conf>` as a child process and waits (bounded) until it answers an
IMAP login. `stop()` ends that process and removes the directory. The system Dovecot, if
any, is neither used nor touched. `running()` skips the test when Dovecot is not installed.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import grp
import imaplib
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import pytest

from kizuna.engagement.tests.smtp_sink import free_port

START_TIMEOUT = 15.0


def dovecot_binary() -> str | None:
    # /usr/sbin is not on every user's PATH.
    return shutil.which("dovecot") or shutil.which("dovecot", path="/usr/sbin:/usr/local/sbin")


def dovecot_version(binary: str) -> tuple[int, int]:
    # "2.3.19.1 (9b53102964)"
    out = subprocess.run(  # noqa: S603 (the installed dovecot, fixed arguments)
        [binary, "--version"], capture_output=True, text=True, check=True
    )
    major, minor = out.stdout.split(".")[:2]
    return int(major), int(minor)


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


@dataclass
class ImapServer:
    host: str = "127.0.0.1"
    port: int = field(default_factory=free_port)
    user: str = "bounces"
    # Needs escaping in the URL and quoting in IMAP LOGIN (no ":": the passwd-file separator).
    password: str = "s3cret/pa ss@word"
    root: Path | None = None
    process: subprocess.Popen[bytes] | None = None

    def url(self, mailbox: str = "INBOX", *, password: str | None = None) -> str:
        secret = quote(self.password if password is None else password, safe="")
        return (
            f"imap://{quote(self.user, safe='')}:{secret}@{self.host}:{self.port}/{quote(mailbox)}"
        )

    @property
    def log(self) -> str:
        if self.root is None:
            return ""
        parts = []
        for name in ("stderr.log", "dovecot.log"):
            path = self.root / name
            if path.exists():
                parts.append(path.read_text(errors="replace"))
        return "".join(parts)

    def start(self) -> None:
        binary = dovecot_binary()
        if binary is None:
            raise RuntimeError("dovecot is not installed (Debian package dovecot-imapd)")
        # A short path: Dovecot's unix sockets live under base_dir (108-byte limit).
        self.root = Path(tempfile.mkdtemp(prefix="kz-imap-"))
        self._write_config()
        with (self.root / "stderr.log").open("wb") as stderr:
            self.process = subprocess.Popen(  # noqa: S603 (our own config)
                [binary, "-F", "-c", str(self.root / "dovecot.conf")],
                stdin=subprocess.DEVNULL,
                stdout=stderr,
                stderr=stderr,
            )
        self._wait_until_ready()

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            # The master stops its login/imap/auth children on SIGTERM.
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None

    def client(self) -> imaplib.IMAP4:
        """A logged-in client with INBOX selected; the caller logs out."""
        client = imaplib.IMAP4(self.host, self.port, timeout=10)
        client.login(self.user, self.password)
        client.select("INBOX")
        return client

    def append(self, raw: bytes, mailbox: str = "INBOX") -> None:
        """Deliver `raw` (CRLF line ends) into `mailbox`, unseen, as a mail server would."""
        client = self.client()
        try:
            typ, data = client.append(f'"{mailbox}"', None, None, raw)
            assert typ == "OK", data
        finally:
            client.logout()

    def create_mailbox(self, name: str) -> None:
        client = self.client()
        try:
            typ, data = client.create(f'"{name}"')
            assert typ == "OK", data
        finally:
            client.logout()

    def clear(self) -> None:
        """Back to an empty INBOX and no other mailbox, for the next test."""
        client = self.client()
        try:
            _typ, exists = client.select("INBOX")
            if exists[0] != b"0":
                client.store("1:*", "+FLAGS.SILENT", "(\\Deleted)")
                client.expunge()
            _typ, listed = client.list()
            for line in listed:
                if isinstance(line, bytes) and not line.endswith(b"INBOX"):
                    client.delete(line.rsplit(b' "." ', 1)[-1].decode())
        finally:
            client.logout()

    def subjects(self, criterion: str = "ALL", mailbox: str = "INBOX") -> list[str]:
        """The Subject of each message in `mailbox` matching the IMAP SEARCH `criterion`
        ("SEEN", "UNSEEN", ...)."""
        client = self.client()
        try:
            client.select(f'"{mailbox}"')
            _typ, found = client.uid("SEARCH", criterion)
            subjects = []
            for uid in (found[0] or b"").split():
                _typ, data = client.uid("FETCH", uid.decode(), "(BODY.PEEK[HEADER])")
                raw = next(item[1] for item in data if isinstance(item, tuple))
                headers = email.message_from_bytes(raw, policy=email.policy.default)
                subjects.append(str(headers["Subject"]))
            return subjects
        finally:
            client.logout()

    def _write_config(self) -> None:
        assert self.root is not None
        root = self.root
        for name in ("run", "state", "mail"):
            (root / name).mkdir()
        if os.geteuid() == 0:
            # As root (CI), Dovecot refuses to run its login process or a mail session as
            # root: use the unprivileged users the Debian package creates, and let mail
            # sessions run as nobody, who must be able to reach the Maildir and passwd file.
            login_user = "dovenull" if _user_exists("dovenull") else "nobody"
            internal_user = "dovecot" if _user_exists("dovecot") else "nobody"
            mail = pwd.getpwnam("nobody")
            root.chmod(0o755)
            os.chown(root / "mail", mail.pw_uid, mail.pw_gid)
        else:
            # Unprivileged, every Dovecot process runs as this user.
            mail = pwd.getpwuid(os.geteuid())
            login_user = internal_user = mail.pw_name
        internal_group = grp.getgrgid(pwd.getpwnam(internal_user).pw_gid).gr_name
        users = root / "users"
        users.write_text(f"{self.user}:{{PLAIN}}{self.password}\n")
        users.chmod(0o644)
        config = f"""\
base_dir = {root}/run
state_dir = {root}/state
instance_name = kizuna-test-{self.port}
log_path = {root}/dovecot.log
protocols = imap
listen = {self.host}
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
# A refused login answers at once (the default waits 2 seconds).
auth_failure_delay = 0
default_internal_user = {internal_user}
default_internal_group = {internal_group}
default_login_user = {login_user}
first_valid_uid = {min(mail.pw_uid, 500)}
first_valid_gid = {min(mail.pw_gid, 500)}
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {users}
}}
userdb {{
  driver = static
  args = uid={mail.pw_uid} gid={mail.pw_gid} home={root}/mail/%u
}}
# No chroot (only root may chroot), and the auth worker as this user (its default is root).
service imap-login {{
  chroot =
  inet_listener imap {{
    address = {self.host}
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service auth-worker {{
  user = {internal_user}
}}
"""
        (root / "dovecot.conf").write_text(config)

    def _wait_until_ready(self) -> None:
        # The master listens before its login process can serve: wait for a real login.
        assert self.process is not None
        deadline = time.monotonic() + START_TIMEOUT
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                log = self.log
                self.stop()
                raise RuntimeError(f"dovecot exited at start:\n{log}")
            try:
                client = imaplib.IMAP4(self.host, self.port, timeout=2)
                try:
                    client.login(self.user, self.password)
                finally:
                    client.logout()
                return
            except (OSError, imaplib.IMAP4.error) as exc:
                last_error = exc
                time.sleep(0.05)
        log = self.log
        self.stop()
        raise RuntimeError(
            f"dovecot did not accept a login within {START_TIMEOUT}s ({last_error}):\n{log}"
        )


@contextlib.contextmanager
def running() -> Iterator[ImapServer]:
    """A private Dovecot on a free localhost port with one user and an empty INBOX, for a
    fixture to yield; skips the test when Dovecot is not installed (`./run test` installs
    Debian's dovecot-imapd)."""
    binary = dovecot_binary()
    if binary is None:
        pytest.skip("dovecot is not installed: install Debian's dovecot-imapd (./run test does)")
    version = dovecot_version(binary)
    if version >= (2, 4):
        # 2.4 renamed most of the settings used here (mail_location, passdb args, ...).
        pytest.skip(
            f"the test Dovecot config is written for Dovecot 2.3 (Debian 12), not {version}"
        )
    server = ImapServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()

"""A private Postfix instance from Debian's package: its own config, queue, log and maildir
under one directory, listening on loopback ports. Never touches /etc/postfix."""
import os
import pwd
import shutil
import subprocess
import time

from .ports import wait_listening, wait_until

_MASTER_SERVICES = """\
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
smtp      unix  - - n - - smtp
relay     unix  - - n - - smtp
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
virtual   unix  - n n - - virtual
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
tlsmgr    unix  - - n 1000? 1 tlsmgr
showq     unix  n - n - - showq
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (not yet reaped) is gone for our purposes.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][:1] != "Z"
    except OSError:
        return False


class Postfix:
    """Postfix listening on 127.0.0.1:`mx_port` (and `submission_port` if given), delivering
    every recipient in mailsec.test to one maildir. `main_cf` adds or overrides parameters."""

    DOMAIN = "mailsec.test"
    # What Postfix answers to a command it does not know.
    UNKNOWN_COMMAND_REPLY = b"500 5.5.2"

    def __init__(self, directory: str, mx_port: int, *, pki=None, submission_port=None,
                 main_cf: dict | None = None):
        self.dir = os.path.abspath(directory)
        self.conf = os.path.join(self.dir, "conf")
        self.maildir = os.path.join(self.dir, "mail", "inbox")
        self.maillog = os.path.join(self.dir, "maillog")
        self.mx_port = mx_port
        self.submission_port = submission_port
        if os.path.exists(self.dir):
            shutil.rmtree(self.dir)
        for sub in ("conf", "queue", "data", "mail/inbox/tmp", "mail/inbox/new", "mail/inbox/cur"):
            os.makedirs(os.path.join(self.dir, sub))
        postfix_user = pwd.getpwnam("postfix")
        os.chown(os.path.join(self.dir, "data"), postfix_user.pw_uid, postfix_user.pw_gid)
        nobody = pwd.getpwnam("nobody")
        for root, dirs, _ in os.walk(os.path.join(self.dir, "mail")):
            os.chown(root, nobody.pw_uid, nobody.pw_gid)
            for d in dirs:
                os.chown(os.path.join(root, d), nobody.pw_uid, nobody.pw_gid)

        params = {
            "compatibility_level": "3.6",
            "queue_directory": f"{self.dir}/queue",
            "data_directory": f"{self.dir}/data",
            "mail_owner": "postfix",
            "setgid_group": "postdrop",
            "myhostname": "mx.mailsec.test",
            "mydomain": self.DOMAIN,
            "inet_interfaces": "127.0.0.1",
            "inet_protocols": "ipv4",
            "mydestination": "",
            "alias_maps": "",
            "alias_database": "",
            "local_recipient_maps": "",
            "biff": "no",
            "mynetworks": "127.0.0.0/8",
            "virtual_mailbox_domains": self.DOMAIN,
            "virtual_mailbox_base": f"{self.dir}/mail",
            "virtual_mailbox_maps": "static:inbox/",
            "virtual_uid_maps": f"static:{nobody.pw_uid}",
            "virtual_gid_maps": f"static:{nobody.pw_gid}",
            "virtual_minimum_uid": "1",
            "maillog_file_prefixes": self.dir,
            "maillog_file": self.maillog,
            "smtpd_authorized_xclient_hosts": "127.0.0.0/8",
            # Deliver at once: the tests count delivered files.
            "queue_run_delay": "1s",
            "minimal_backoff_time": "1s",
            "maximal_backoff_time": "2s",
            # Hostile-input tests need 8-bit HELO names to reach the milter unmodified.
            "smtputf8_enable": "no",
            "smtpd_error_sleep_time": "0",
            "smtpd_soft_error_limit": "100",
            "smtpd_hard_error_limit": "100",
        }
        if pki is not None:
            params.update({
                "smtpd_tls_cert_file": pki.server_cert,
                "smtpd_tls_key_file": pki.server_key,
                "smtpd_tls_CAfile": pki.ca,
                "smtpd_tls_security_level": "may",
                "smtpd_tls_ask_ccert": "yes",
                "smtpd_tls_loglevel": "1",
                "smtpd_tls_received_header": "yes",
            })
        params.update(main_cf or {})
        with open(os.path.join(self.conf, "main.cf"), "w") as f:
            for k, v in params.items():
                f.write(f"{k} = {v}\n")
        with open(os.path.join(self.conf, "master.cf"), "w") as f:
            f.write(f"127.0.0.1:{mx_port} inet n - n - - smtpd\n")
            if submission_port:
                f.write(f"127.0.0.1:{submission_port} inet n - n - - smtpd\n")
            f.write(_MASTER_SERVICES)

    def _postfix(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["postfix", "-c", self.conf, *args], capture_output=True, text=True)

    def start(self) -> None:
        r = self._postfix("start")
        if r.returncode != 0:
            raise RuntimeError(f"postfix start failed: {r.stderr}\n{self.log_tail()}")
        wait_listening(self.mx_port)
        if self.submission_port:
            wait_listening(self.submission_port)

    def stop(self) -> None:
        pid = self._master_pid()
        self._postfix("stop")
        # The master leaves its pid file behind: wait for the process itself.
        deadline = time.monotonic() + 15
        while pid and _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if pid and _alive(pid):
            self._postfix("abort")

    def _master_pid(self) -> int | None:
        try:
            with open(os.path.join(self.dir, "queue", "pid", "master.pid")) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    def delivered(self) -> int:
        new = os.path.join(self.maildir, "new")
        return len(os.listdir(new))

    def delivered_messages(self) -> list[bytes]:
        new = os.path.join(self.maildir, "new")
        out = []
        for name in sorted(os.listdir(new)):
            with open(os.path.join(new, name), "rb") as f:
                out.append(f.read())
        return out

    def wait_delivered(self, count: int, timeout: float = 60.0) -> None:
        wait_until(lambda: self.delivered() >= count, timeout=timeout,
                   what=f"{count} delivered messages (have {self.delivered()})")

    def log_tail(self, lines: int = 30) -> str:
        try:
            with open(self.maillog, errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return "(no maillog)"

"""A private Sendmail 8.17 from Debian's packages, unpacked with `dpkg -x` into a cache
directory (Sendmail and Postfix conflict as Debian packages, so it is never installed), with its
own sendmail.cf, queue, log and mail directory under one directory, listening on loopback
ports. Never touches /etc/mail.

Sendmail facts this relies on (Debian's 8.17.1.9):
- It refuses configuration, queue and certificate paths below a group- or world-writable
  directory (such as /tmp): `directory` must not be below one.
- With an unqualified host name it sleeps 60 s at every start, so it runs in its own UTS
  namespace with the host name mx.mailsec.test.
- It logs only through syslog(3) to /dev/log. It runs in its own mount namespace whose /dev is a
  small tmpfs (null, zero, random, urandom, full, tty bound from the real /dev) with /dev/log
  pointing at a datagram socket this class reads into `maillog`; the real /dev is untouched.
"""
import fcntl
import glob
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time

from .ports import listening, wait_listening, wait_until
from .processes import build_dir

PACKAGES = ("sendmail-bin", "sendmail-cf", "sendmail-base")

# What the mail filter is given to time out and to do when it is down. No F= flag: Sendmail
# then carries on as if the filter were not there (fail open).
MILTER_TIMEOUTS = "T=C:5s;S:10s;R:10s;E:30s"

_DEV_NODES = ("null", "zero", "full", "random", "urandom", "tty")


def prefix_dir() -> str:
    """Where Sendmail's packages are unpacked (shared by every test of one build)."""
    return os.environ.get("MAILSEC_SENDMAIL_PREFIX") or os.path.join(build_dir(), "sendmail-prefix")


def _download(into: str) -> None:
    def download() -> subprocess.CompletedProcess:
        return subprocess.run(["apt-get", "download", *PACKAGES], cwd=into, capture_output=True,
                              text=True)

    r = download()
    if r.returncode != 0:
        # A fresh machine may have no package lists yet.
        subprocess.run(["apt-get", "update", "-q"], capture_output=True, text=True)
        r = download()
    if r.returncode != 0:
        raise RuntimeError(f"apt-get download {' '.join(PACKAGES)} failed:\n{r.stdout}{r.stderr}")


def unpacked_prefix() -> str:
    """Downloads Sendmail's Debian packages and unpacks them with dpkg -x, once; returns the
    root of the unpacked tree (it has usr/libexec/sendmail/sendmail and usr/share/sendmail/cf)."""
    base = prefix_dir()
    root = os.path.join(base, "root")
    os.makedirs(base, mode=0o755, exist_ok=True)
    with open(os.path.join(base, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not os.path.exists(os.path.join(root, ".unpacked")):
            debs = os.path.join(base, "debs")
            os.makedirs(debs, exist_ok=True)
            if not all(glob.glob(os.path.join(debs, f"{p}_*.deb")) for p in PACKAGES):
                _download(debs)
            staging = root + ".new"
            shutil.rmtree(staging, ignore_errors=True)
            for deb in sorted(glob.glob(os.path.join(debs, "*.deb"))):
                subprocess.run(["dpkg", "-x", deb, staging], check=True, capture_output=True)
            open(os.path.join(staging, ".unpacked"), "w").close()
            shutil.rmtree(root, ignore_errors=True)
            os.rename(staging, root)
    binary = os.path.join(root, "usr", "libexec", "sendmail", "sendmail")
    missing = [line.split()[0] for line in
               subprocess.run(["ldd", binary], capture_output=True, text=True).stdout.splitlines()
               if "not found" in line]
    if missing:
        raise RuntimeError(f"{binary} needs {', '.join(missing)}: run scripts/install-deps.sh "
                           "(it installs libwrap0 and m4)")
    if shutil.which("m4") is None:
        raise RuntimeError("m4 is missing: run scripts/install-deps.sh")
    return root


class Sendmail:
    """Sendmail listening on 127.0.0.1:`mx_port` (DaemonPortOptions Name=MTA) and
    `submission_port` (Name=MSA) if given, delivering every recipient in mailsec.test to one
    directory, one file per recipient and message. `milters` is a list of (name, equate) for
    INPUT_MAIL_FILTER; `mc` adds lines to the .mc before the mailers."""

    DOMAIN = "mailsec.test"
    HOSTNAME = "mx.mailsec.test"
    # What Sendmail answers to a command it does not know.
    UNKNOWN_COMMAND_REPLY = b"500 5.5.1"

    def __init__(self, directory: str, mx_port: int, *, pki=None, submission_port=None,
                 milters: list | None = None, mc: str = ""):
        self.dir = os.path.abspath(directory)
        self.mx_port = mx_port
        self.submission_port = submission_port
        self.prefix = unpacked_prefix()
        self.binary = os.path.join(self.prefix, "usr", "libexec", "sendmail", "sendmail")
        self.cf = os.path.join(self.dir, "sendmail.cf")
        self.mc = os.path.join(self.dir, "sendmail.mc")
        self.maildir = os.path.join(self.dir, "mail")
        self.maillog = os.path.join(self.dir, "maillog")
        self.pid_file = os.path.join(self.dir, "sendmail.pid")
        self.proc = None
        self._log_socket = None
        self._log_thread = None
        if os.path.exists(self.dir):
            shutil.rmtree(self.dir)
        for sub in ("queue", "mail/tmp", "mail/new", "dev"):
            os.makedirs(os.path.join(self.dir, sub), mode=0o755)
        os.chmod(os.path.join(self.dir, "queue"), 0o700)
        self._check_safe_path()

        deliver = os.path.join(self.dir, "deliver")
        with open(deliver, "w") as f:
            f.write("#!/bin/sh\n"
                    "# Sendmail's mailsec mailer: stores one message (stdin) as one file.\n"
                    f"d={self.maildir}\n"
                    'f=$(mktemp "$d/tmp/msg.XXXXXXXX") || exit 75\n'
                    'cat > "$f" || exit 75\n'
                    'mv "$f" "$d/new/" || exit 75\n')
        os.chmod(deliver, 0o755)
        with open(os.path.join(self.dir, "service.switch"), "w") as f:
            f.write("hosts\tfiles\naliases\tfiles\n")

        with open(self.mc, "w") as f:
            f.write(self._mc_text(pki, deliver, milters or [], mc))
        cf_dir = os.path.join(self.prefix, "usr", "share", "sendmail", "cf")
        with open(self.cf, "w") as out:
            r = subprocess.run(["m4", "-D", f"_CF_DIR_={cf_dir}/",
                                os.path.join(cf_dir, "m4", "cf.m4"), self.mc],
                               stdout=out, stderr=subprocess.PIPE, text=True)
        if r.returncode != 0 or "ERROR" in r.stderr:
            raise RuntimeError(f"m4 could not build sendmail.cf from {self.mc}:\n{r.stderr}")

    def _check_safe_path(self) -> None:
        path = self.dir
        while True:
            if os.stat(path).st_mode & 0o022:
                raise RuntimeError(f"Sendmail refuses files below the group- or world-writable "
                                   f"{path}: use a test directory that is not (MAILSEC_TEST_TMP)")
            parent = os.path.dirname(path)
            if parent == path:
                return
            path = parent

    def _mc_text(self, pki, deliver: str, milters: list, extra: str) -> str:
        d = self.dir
        lines = [
            "divert(-1)",
            "# mailsec integration test: a private Sendmail, generated by harness/sendmail.py",
            "divert(0)dnl",
            "VERSIONID(`mailsec integration test')dnl",
            "OSTYPE(`linux')dnl",
            f"define(`confDOMAIN_NAME', `{self.HOSTNAME}')dnl",
            f"define(`QUEUE_DIR', `{d}/queue')dnl",
            f"define(`confPID_FILE', `{self.pid_file}')dnl",
            f"define(`confSERVICE_SWITCH_FILE', `{d}/service.switch')dnl",
            f"define(`confHELP_FILE', `{self.prefix}/etc/mail/helpfile')dnl",
            "define(`ALIAS_FILE', `')dnl",
            "define(`confTRUSTED_USERS', `root')dnl",
            "define(`confDEF_USER_ID', `nobody:nogroup')dnl",
            "define(`confDONT_PROBE_INTERFACES', `True')dnl",
            "define(`confTO_IDENT', `0s')dnl",
            # A busy test machine must not make Sendmail queue or refuse mail.
            "define(`confQUEUE_LA', `1000')dnl",
            "define(`confREFUSE_LA', `1000')dnl",
            "define(`confDELAY_LA', `0')dnl",
            "define(`confLOG_LEVEL', `14')dnl",
            "define(`confMILTER_LOG_LEVEL', `14')dnl",
            "FEATURE(`no_default_msa')dnl",
            "FEATURE(`nocanonify')dnl",
            "FEATURE(`accept_unresolvable_domains')dnl",
            f"RELAY_DOMAIN(`{self.DOMAIN}')dnl",
            f"DAEMON_OPTIONS(`Family=inet, Name=MTA, Port={self.mx_port}, Addr=127.0.0.1')dnl",
        ]
        if self.submission_port:
            lines.append(f"DAEMON_OPTIONS(`Family=inet, Name=MSA, Port={self.submission_port}, "
                         "M=E, Addr=127.0.0.1')dnl")
        if pki is not None:
            # Sendmail asks every STARTTLS client for a certificate unless told not to (V in
            # TLSSrvOptions); CACertFile is both the CA list sent and the trust anchor.
            lines += [
                f"define(`confCACERT_PATH', `{os.path.dirname(pki.ca)}')dnl",
                f"define(`confCACERT', `{pki.ca}')dnl",
                f"define(`confSERVER_CERT', `{pki.server_cert}')dnl",
                f"define(`confSERVER_KEY', `{pki.server_key}')dnl",
            ]
        for name, equate in milters:
            lines.append(f"INPUT_MAIL_FILTER(`{name}', `{equate}')dnl")
        if extra:
            lines.append(extra.rstrip("\n"))
        lines += [
            "MAILER(`local')dnl",
            "MAILER(`smtp')dnl",
            "MAILER_DEFINITIONS",
            "# Every recipient in mailsec.test: one file per message and recipient, as root.",
            f"Mmailsec, P={deliver}, F=lsDFMqS, T=DNS/RFC822/X-Unix, A=deliver $u",
            "LOCAL_RULE_0",
            f"R$+ < @ {self.DOMAIN} . > $*\t$#mailsec $@ {self.DOMAIN} $: $1",
            f"R$+ < @ {self.DOMAIN} > $*\t$#mailsec $@ {self.DOMAIN} $: $1",
        ]
        return "\n".join(lines) + "\n"

    # -- running ---------------------------------------------------------------------------

    def _start_log(self) -> str | None:
        path = os.path.join(self.dir, "log.sock")
        if len(path.encode()) >= 108:
            return None  # too long for a unix socket address: run without a log
        if os.path.exists(path):
            os.unlink(path)  # left by an earlier start
        self._log_socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._log_socket.bind(path)
        self._log_socket.settimeout(0.2)
        os.chmod(path, 0o666)
        sock = self._log_socket
        stopping = self._log_stopping = threading.Event()
        priority = re.compile(rb"^<\d+>")

        def pump():
            with open(self.maillog, "ab", buffering=0) as out:
                while True:
                    try:
                        data = sock.recv(65536)
                    except socket.timeout:
                        if stopping.is_set():
                            return
                        continue
                    except OSError:
                        return
                    out.write(priority.sub(b"", data).rstrip(b"\n\x00") + b"\n")

        self._log_thread = threading.Thread(target=pump, name="sendmail-syslog", daemon=True)
        self._log_thread.start()
        return path

    def _namespace_script(self, log_socket: str | None) -> str:
        olddev = os.path.join(self.dir, "dev")
        script = [f"hostname {self.HOSTNAME} || exit 1"]
        if log_socket:
            binds = " && ".join(f"touch /dev/{n} && mount --bind {olddev}/{n} /dev/{n}"
                                for n in _DEV_NODES)
            script.append(
                f"if mount --bind /dev {olddev} && mount -t tmpfs -o mode=755 mailsec-dev /dev; "
                f"then {{ {binds} && ln -s {log_socket} /dev/log; }} || umount /dev; fi")
        script.append(f"exec {self.binary} -bD -C {self.cf} -q5s")
        return "\n".join(script)

    def start(self) -> None:
        log_socket = self._start_log()
        argv = ["unshare", "--mount", "--uts", "--propagation", "private", "sh", "-c",
                self._namespace_script(log_socket)]
        self._stdio = open(os.path.join(self.dir, "sendmail.out"), "ab")
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self._stdio,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        try:
            for port in (self.mx_port, self.submission_port):
                if port:
                    wait_until(lambda: self.proc.poll() is not None or listening(port),
                               timeout=30, what=f"Sendmail listening on {port}")
                    if self.proc.poll() is not None:
                        raise RuntimeError(f"Sendmail exited with {self.proc.returncode}")
                    wait_listening(port)
        except Exception as e:
            self.stop()
            raise RuntimeError(f"Sendmail did not start: {e}\n{self.output()}\n{self.log_tail()}")

    def stop(self) -> None:
        if self.proc is not None:
            # Connection, delivery and queue-run children share the daemon's process group.
            for sig, grace in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
                try:
                    os.killpg(self.proc.pid, sig)
                except ProcessLookupError:
                    break
                deadline = time.monotonic() + grace
                while time.monotonic() < deadline and _group_alive(self.proc.pid):
                    self.proc.poll()
                    time.sleep(0.05)
            self.proc.wait()
            self._stdio.close()
            self.proc = None
        if self._log_socket is not None:
            self._log_stopping.set()  # the pump drains what is queued, then returns
            self._log_thread.join(timeout=5)
            self._log_socket.close()
            self._log_socket = None

    def delivered(self) -> int:
        return len(os.listdir(os.path.join(self.maildir, "new")))

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

    def output(self) -> str:
        try:
            with open(os.path.join(self.dir, "sendmail.out"), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def log_tail(self, lines: int = 30) -> str:
        try:
            with open(self.maillog, errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return "(no maillog)"


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False

"""SMTP clients for the tests: swaks for whole transactions (with STARTTLS, protocol and
cipher control, client certificates) and a raw socket client for hostile sessions."""
import os
import socket
import subprocess
import tempfile

_TLS13_CONF = """openssl_conf = openssl_init
[openssl_init]
ssl_conf = ssl_sect
[ssl_sect]
system_default = system_default_sect
[system_default_sect]
MinProtocol = TLSv1.3
Ciphersuites = {suite}
"""


def swaks(port: int, *, tls: bool = False, protocol: str | None = None,
          cipher: str | None = None, tls13_suite: str | None = None,
          cert: str | None = None, key: str | None = None,
          ehlo: str = "client.mailsec.test", to: str = "user@mailsec.test",
          sender: str = "sender@example.org", extra: tuple = (), check: bool = True,
          body: str | None = None, data: str | None = None, xclient_addr: str | None = None,
          xclient_name: str | None = None,
          xclient_helo: str | None = None) -> subprocess.CompletedProcess:
    """One SMTP session that sends one message. tls13_suite forces TLS 1.3 with exactly that
    ciphersuite (through an OpenSSL config, since swaks cannot set TLS 1.3 suites).
    sender "" is the null sender. data is the path of a whole message (headers and body,
    sent as is). xclient_* present another client through Postfix's XCLIENT (the server must
    list 127.0.0.1 in smtpd_authorized_xclient_hosts; an IPv6 address is given bare): swaks
    sends XCLIENT after the first EHLO, then EHLOs again with `ehlo`, which is the HELO name
    the server and its milters see from then on."""
    argv = ["swaks", "--server", f"127.0.0.1:{port}", "--to", to, "--from", sender or "<>",
            "--ehlo", ehlo, "--timeout", "30"]
    if xclient_addr:
        addr = f"IPV6:{xclient_addr}" if ":" in xclient_addr else xclient_addr
        argv += ["--xclient-addr", addr]
    if xclient_name:
        argv += ["--xclient-name", xclient_name]
    if xclient_helo:
        argv += ["--xclient-helo", xclient_helo]
    if data is not None:
        argv += ["--data", "@" + data]
    env = dict(os.environ)
    conf_file = None
    if tls or tls13_suite:
        argv.append("--tls")
    if protocol:
        argv += ["--tls-protocol", protocol]
    if cipher:
        argv += ["--tls-cipher", cipher]
    if cert:
        argv += ["--tls-cert", cert, "--tls-key", key]
    if body is not None:
        argv += ["--body", body]
    if tls13_suite:
        conf_file = tempfile.NamedTemporaryFile("w", suffix=".cnf", delete=False)
        conf_file.write(_TLS13_CONF.format(suite=tls13_suite))
        conf_file.close()
        env["OPENSSL_CONF"] = conf_file.name
    argv += list(extra)
    try:
        r = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=60)
    finally:
        if conf_file:
            os.unlink(conf_file.name)
    if check and r.returncode != 0:
        raise AssertionError(f"swaks failed ({r.returncode}): {' '.join(argv)}\n{r.stdout}\n{r.stderr}")
    return r


def read_reply(sock_file) -> bytes:
    """Reads one (possibly multi-line) SMTP reply."""
    reply = b""
    while True:
        line = sock_file.readline(65536)
        if not line:
            return reply
        reply += line
        if len(line) < 4 or line[3:4] != b"-":
            return reply


def raw_session(port: int, commands: list[bytes], timeout: float = 30.0) -> list[bytes]:
    """Connects, reads the greeting, sends each command (CRLF added) and reads its reply.
    Returns the replies, greeting first. Stops early if the server closes."""
    replies = []
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        f = s.makefile("rb")
        replies.append(read_reply(f))
        for command in commands:
            try:
                s.sendall(command + b"\r\n")
            except OSError:
                break
            reply = read_reply(f)
            replies.append(reply)
            if not reply:
                break
    return replies


def raw_message(port: int, helo: bytes, extra_commands: list[bytes] = (),
                to: bytes = b"user@mailsec.test") -> list[bytes]:
    """A cleartext session with an arbitrary HELO argument that still sends one message."""
    return raw_session(port, [b"EHLO " + helo, *extra_commands,
                              b"MAIL FROM:<sender@example.org>", b"RCPT TO:<" + to + b">",
                              b"DATA", b"Subject: raw\r\n\r\nbody\r\n.", b"QUIT"])

"""1,000 hostile milter sessions at once, straight to mailsec-milter (no MTA in the way:
harness/milter_client.py plays it): random HELO names (over-long, 8-bit), random TLS macro
values ({tls_version}, {cipher}, {cipher_bits}, {cert_subject}, {cert_issuer}: valid names,
unknown names, raw bytes, strings far over the 1 kB macro bound, negative and huge bits),
random header fields, unknown commands, messages aborted, connections dropped without QUIT.
All 1,000 connections are open at the same time before any of them ends.

The milter must stay alive, count every session exactly, count each input error exactly as the
documented rules classify it (core/session_tracker.cc: once per session and kind; macros over
core::SessionTracker::kMaxMacro bytes are cut and counted as macro_too_long; TLS facts are judged
at close on the cut copies: a version tls::parseVersion does not know is tls_version_unknown, a
cipher not in the table tls_cipher_unknown, bits that are not a decimal uint32
tls_bits_invalid; docs/metrics.md), add no /metrics series beyond those a warm-up of the same
shapes with well-formed values creates, and keep its memory bounded: VmRSS after all 1,000
closed stays within BASELINE + 3 kB x 1,000 (docs/performance.md's bound per open session) +
RSS_SLACK_KB, and no higher than with all 1,000 open (+ 1 MiB).

The slack is not the milter's per-session state (bounded copies: at most a few kB a session):
hostile sessions send macro packets of up to 60 kB at three stages, which libmilter keeps per
connection until it closes; glibc keeps most of that freed memory in its per-thread arenas
(measured: 15.3 MB over the baseline after the 1,000 closed, of which malloc_trim(0) gives 13 MB
back), and core::peer::PeerHistory keeps the 1,000 new peers (about 1.2 MB; bounded by
metrics::PipelineOptions::max_history_peers). docs/performance.md, "Hostile sessions"."""
import os
import random
import resource
import unittest

from fixtures import NO_VERIFICATION, deltas, new_workdir, readable, remove_workdir
from harness import metrics, processes
from harness.milter_client import Connection, Message
from harness.ports import free_port, wait_until

M = "milter"
SESSIONS = 1000
SMTP_PORT = 25
MAX_MACRO, MAX_HELO, MAX_COMMAND = 1024, 255, 512  # core/session_tracker.h
RSS_PER_SESSION_KB = 3       # docs/performance.md: the bound per open session
RSS_SLACK_KB = 20 * 1024     # freed libmilter buffers glibc keeps, PeerHistory (see above)

CONFIG = f"""\
port_classes:
  mx: {{ports: [{SMTP_PORT}]}}
log: {{level: warning}}
""" + NO_VERIFICATION

# Valid spellings and the version tls::parseVersion makes of them (tls_analyser.h's grammar).
VERSIONS = [("TLSv1.3", "TLSv1.3"), ("TLSv1.2", "TLSv1.2"), ("tlsv1.2", "TLSv1.2"),
            ("TLS1_2", "TLSv1.2"), (" TLSv1.1\t", "TLSv1.1"), ("TLSv1", "TLSv1"),
            ("TLSv1.0", "TLSv1"), ("SSLv3", "SSLv3")]
# Names that are no version: kOther (tls_version_unknown).
BAD_VERSIONS = ["SSLv2", "TLSv1.4", "TLSv1/SSLv3", "TLSv13", "v1.2", "TLS"]
# Names in OpenSSL's table or the legacy one (OpenSSL and IANA names, any case, spaces trimmed).
CIPHERS = ["TLS_AES_256_GCM_SHA384", "TLS_AES_128_GCM_SHA256", "TLS_CHACHA20_POLY1305_SHA256",
           "ECDHE-RSA-AES128-GCM-SHA256", " ecdhe-rsa-aes256-gcm-sha384 ", "AES128-SHA",
           "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "DES-CBC3-SHA", "RC4-MD5"]
BAD_CIPHERS = ["AES-128", "TLS_AES_256_GCM", "ECDHE-RSA-AES128-GCM-SHA2566", "NULL"]
GOOD_BITS = ["256", "128", " 128 ", "0", "4294967295"]
BAD_BITS = ["-1", "-256", "4294967296", "99999999999999999999", "+5", "12 8", "0x100", "abc"]


def printable(text: bytes) -> bool:
    return all(0x21 <= b <= 0x7e for b in text)


def parses_unsigned(text: bytes) -> bool:
    """core::parseUnsigned: digits only, spaces/tabs around, at most 10 digits, <= 2^32-1."""
    t = text.strip(b" \t")
    return 0 < len(t) <= 10 and t.isdigit() and int(t) <= 0xFFFFFFFF


def raw(rng: random.Random, low: int, high: int, first: bytes = b"") -> bytes:
    """Random bytes, never NUL (the protocol's string terminator); `first` leads."""
    n = rng.randint(low, high)
    return first + bytes(rng.randint(1, 255) for _ in range(max(0, n - len(first))))


class Shape:
    """One session as generated: what is sent, and what the milter must make of it."""

    def __init__(self, rng: random.Random, i: int):
        self.helo = rng.choice([
            lambda: f"mx{i}.hostile.example".encode(),
            lambda: raw(rng, 1, 300),                                  # 8-bit, maybe long
            lambda: bytes(rng.choice(b"abcdefghij.-") for _ in range(rng.randint(256, 20000))),
            lambda: b"",
        ])()
        # {client_name} (the verified name of the peer, with {client_resolve} OK) and friends.
        self.connect = {"{client_name}": rng.choice([
            f"c{i}.hostile.example".encode(), raw(rng, 1, 200),
            raw(rng, MAX_MACRO + 1, 8000)]),
            "{client_resolve}": rng.choice([b"OK", b"FAIL", raw(rng, 1, 40)])}
        self.tls = {}
        # (canonical version, canonical cipher): what the warm-up sends for this session.
        version = rng.choice(["none", "good", "bad", "bytes", "huge"])
        self.version_rep = None
        if version == "good":
            self.tls["{tls_version}"], self.version_rep = rng.choice(VERSIONS)
        elif version == "bad":
            self.tls["{tls_version}"] = rng.choice(BAD_VERSIONS)
            self.version_rep = "SSLv2"
        elif version in ("bytes", "huge"):
            # A first byte no version starts with: whatever the cut, the version is unknown.
            high = 200 if version == "bytes" else 12000
            self.tls["{tls_version}"] = raw(rng, 1 if version == "bytes" else MAX_MACRO + 1,
                                            high, first=b"\xff")
            self.version_rep = "SSLv2"
        cipher = rng.choice(["none", "good", "bad", "bytes", "huge"])
        self.cipher_rep = None
        if cipher == "good":
            self.tls["{cipher}"] = self.cipher_rep = rng.choice(CIPHERS)
        elif cipher == "bad":
            self.tls["{cipher}"] = rng.choice(BAD_CIPHERS)
            self.cipher_rep = "NO-SUCH-CIPHER"
        elif cipher in ("bytes", "huge"):
            self.tls["{cipher}"] = raw(rng, 1 if cipher == "bytes" else MAX_MACRO + 1,
                                       200 if cipher == "bytes" else 12000, first=b"#")
            self.cipher_rep = "NO-SUCH-CIPHER"
        bits = rng.choice(["none", "good", "bad", "huge"])
        if bits == "good":
            self.tls["{cipher_bits}"] = rng.choice(GOOD_BITS)
        elif bits == "bad":
            self.tls["{cipher_bits}"] = rng.choice(BAD_BITS)
        elif bits == "huge":
            self.tls["{cipher_bits}"] = b"9" * rng.randint(11, 6000)
        for key in ("{cert_subject}", "{cert_issuer}"):
            if rng.random() < 0.5:
                self.tls[key] = rng.choice([b"CN=client.example", raw(rng, 1, 300),
                                            raw(rng, MAX_MACRO + 1, 9000)])
        self.tls = {k: (v.encode() if isinstance(v, str) else v) for k, v in self.tls.items()}
        self.unknown = [b"Q" + rng.choice([raw(rng, 0, 100), raw(rng, MAX_COMMAND, 3000)])
                        .replace(b"\0", b"x") for _ in range(rng.randint(0, 2))]
        self.messages = rng.choice([0, 1, 1, 2])
        self.headers = [(self._header_name(rng), rng.choice([raw(rng, 0, 200),
                                                              raw(rng, 1000, 30000)]))
                        for _ in range(rng.randint(0, 6))]
        # How the session ends: QUIT after everything; SMFIC_ABORT in the middle of the last
        # message, then QUIT; or the connection dropped (after HELO, in a message, at the end).
        self.ending = rng.choice(["quit", "quit", "abort", "drop_helo", "drop_message", "drop"])

    @staticmethod
    def _header_name(rng: random.Random) -> bytes:
        name = raw(rng, 1, 100).replace(b":", b"-")
        return b"X" + name if name.lower() == b"received" else name

    def encrypted(self) -> bool:
        return bool(self.tls.get("{tls_version}") or self.tls.get("{cipher}"))

    def completed_messages(self) -> int:
        if self.ending == "drop_helo":
            return 0
        if self.ending in ("abort", "drop_message"):
            return max(0, self.messages - 1) if self.messages else 0
        return self.messages

    def reaches_message(self) -> bool:
        """Whether any message reaches end of data."""
        return self.completed_messages() > 0

    def sends_helo_stage_only(self) -> bool:
        return self.ending == "drop_helo"

    def input_errors(self) -> set[str]:
        """The kinds counted for this session (once each), by core's rules."""
        kinds = set()
        if len(self.helo) > MAX_HELO:
            kinds.add("helo_too_long")
        if not printable(self.helo[:MAX_HELO]):
            kinds.add("helo_invalid_bytes")
        if any(len(v) > MAX_MACRO for v in self.connect.values()):
            kinds.add("macro_too_long")
        if not self.sends_helo_stage_only():
            unknown = self.unknown
        else:
            unknown = []
        if any(len(c) > MAX_COMMAND for c in unknown):
            kinds.add("command_too_long")
        if self.encrypted():
            if any(len(v) > MAX_MACRO for v in self.tls.values()):
                kinds.add("macro_too_long")
            cut = {k: v[:MAX_MACRO] for k, v in self.tls.items()}
            if cut.get("{tls_version}") and self.version_rep == "SSLv2":
                kinds.add("tls_version_unknown")
            if cut.get("{cipher}") and self.cipher_rep == "NO-SUCH-CIPHER":
                kinds.add("tls_cipher_unknown")
            if cut.get("{cipher_bits}") and not parses_unsigned(cut["{cipher_bits}"]):
                kinds.add("tls_bits_invalid")
        return kinds

    def unknown_commands(self) -> int:
        return 0 if self.sends_helo_stage_only() else len(self.unknown)

    def warm_key(self) -> tuple:
        """What decides the series this session can touch: its TLS labels (version and suite,
        whether a subject was given) and whether a message is counted."""
        if not self.encrypted():
            return (None, None, False, self.reaches_message())
        return (self.version_rep, self.cipher_rep, bool(self.tls.get("{cert_subject}")),
                self.reaches_message())


def warm_tls(key: tuple) -> dict:
    version, cipher, subject, _ = key
    tls = {}
    if version:
        tls["{tls_version}"] = version
    if cipher:
        tls["{cipher}"] = cipher
    if version or cipher:
        tls["{cipher_bits}"] = "256"
    if subject:
        tls["{cert_subject}"] = "CN=warm.example"
    return tls


class Session:
    """A Shape played over one connection, step by step."""

    def __init__(self, port: int, shape: Shape, i: int):
        self.shape, self.i = shape, i
        self.conn = Connection(port, timeout=120)
        self.message = Message("192.0.2.7", shape.helo, b"a@hostile.example",
                               shape.headers, b"body\r\n")

    def start(self) -> None:
        s = self.shape
        self.conn.send(self.conn.session_start(self.message, SMTP_PORT, tls=s.tls,
                                               connect_macros=s.connect))

    def run(self) -> None:
        """Everything up to the ending (the connection stays open)."""
        s, c = self.shape, self.conn
        if s.ending == "drop_helo":
            return
        for command in s.unknown:
            c.send(c.unknown(command))
        for n in range(s.messages):
            qid = f"H{self.i:05d}{n}"
            head = c.message_head(self.message, qid, s.tls)
            last = n == s.messages - 1
            if last and s.ending in ("abort", "drop_message"):
                c.send(head)
                if s.ending == "abort":
                    c.abort()
                return
            c.send(head + c.message_tail(self.message, qid, s.tls))

    def end(self) -> None:
        if self.shape.ending.startswith("drop"):
            self.conn.drop()
        else:
            self.conn.close()


def warm_session(port: int, key: tuple, errors: dict | None = None) -> None:
    """A well-formed session with the TLS labels of `key` (and its message), or one that
    shows the input error of `errors`."""
    tls = warm_tls(key)
    connect = {"{client_name}": "warm.example", "{client_resolve}": "OK"}
    helo = b"warm.example"
    unknown = [b"QWARM"]
    if errors:
        tls.update(errors.get("tls", {}))
        connect.update(errors.get("connect", {}))
        helo = errors.get("helo", helo)
        unknown = errors.get("unknown", unknown)
    m = Message("192.0.2.8", helo, b"a@warm.example", [(b"Subject", b"warm")], b"body\r\n")
    c = Connection(port, timeout=60)
    c.send(c.session_start(m, SMTP_PORT, tls=tls, connect_macros=connect))
    for command in unknown:
        c.send(c.unknown(command))
    if key[3]:
        c.send(c.message(m, "WARM", tls))
    c.close()


class HostileMilterSessions(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        # 1,000 connections need more than the default 1,024 descriptors, here and in the
        # milter, which inherits the limit.
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        want = SESSIONS * 2 + 1024
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, want), max(hard, want)))
        cls.workdir = new_workdir(cls.__name__)
        cls.port, cls.metrics_port = free_port(), free_port()
        cls.milter = processes.milter(cls.workdir, cls.port, cls.metrics_port, CONFIG)
        cls.milter.start()
        cls.statuses = []

    @classmethod
    def tearDownClass(cls):
        if cls.milter.alive():
            cls.statuses.append(cls.milter.stop())
        remove_workdir(cls.workdir, cls.statuses)

    def scrape(self) -> metrics.Scrape:
        return metrics.scrape(self.metrics_port)

    def status(self, key: str) -> int:
        with open(f"/proc/{self.milter.proc.pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
        raise KeyError(key)

    def wait_sessions(self, before: metrics.Scrape, count: int) -> metrics.Scrape:
        want = before.total("mailsec_sessions_total") + count

        def counted():
            s = self.scrape()
            return s if s.total("mailsec_sessions_total") >= want else None
        try:
            return wait_until(counted, timeout=300, interval=0.2, what=f"{count} sessions")
        except TimeoutError:
            self.fail(f"{self.scrape().total('mailsec_sessions_total')} sessions counted, "
                      f"want {want}\n{self.milter.log()[-3000:]}")

    def test_1000_concurrent_hostile_sessions(self):
        rng = random.Random(20261201)
        shapes = [Shape(rng, i) for i in range(SESSIONS)]

        # Warm-up: every series these shapes can legitimately create (tls_sessions adds one per
        # version x suite; the small families are preallocated), each input error once.
        keys = sorted({s.warm_key() for s in shapes}, key=repr)
        before_warm = self.scrape()
        for key in keys:
            warm_session(self.port, key)
        tls_key = ("TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256", False, True)
        for errors in ({"helo": b"h" * 300}, {"helo": b"\xff.example"},
                       {"connect": {"{client_name}": "n" * 2000}},
                       {"tls": {"{cipher_bits}": "-1"}}, {"unknown": [b"Q" * 600]}):
            warm_session(self.port, tls_key, errors)
        warmed = self.wait_sessions(before_warm, len(keys) + 5)
        wait_until(lambda: self._quiet(), timeout=30, interval=0.5, what="an idle milter")
        rss_before = self.status("VmRSS")
        series_before = warmed.series_count()
        fds_before = len(os.listdir(f"/proc/{self.milter.proc.pid}/fd"))

        # 1,000 connections, all past HELO, before any goes further.
        sessions = [Session(self.port, s, i) for i, s in enumerate(shapes)]
        for s in sessions:
            s.start()
        for s in sessions:
            s.run()
        # libmilter has a descriptor for every one of them now.
        fds_open = len(os.listdir(f"/proc/{self.milter.proc.pid}/fd"))
        self.assertGreaterEqual(fds_open - fds_before, SESSIONS)
        rss_open = self.status("VmRSS")
        self.assertTrue(self.milter.alive(), self.milter.log()[-3000:])
        for s in sessions:
            s.end()
        after = self.wait_sessions(warmed, SESSIONS)
        self.assertTrue(self.milter.alive(), self.milter.log()[-3000:])

        # Sessions and messages: exactly one each, by their TLS state.
        want_sessions, want_messages = {}, {}
        for s in shapes:
            lab = metrics.labels(source=M, port_class="mx", tls=str(s.encrypted()).lower())
            want_sessions[lab] = want_sessions.get(lab, 0) + 1
            if s.completed_messages():
                want_messages[lab] = want_messages.get(lab, 0) + s.completed_messages()
        self.assertEqual(readable(deltas(warmed, after, "mailsec_sessions_total")),
                         readable(want_sessions))
        self.assertEqual(readable(deltas(warmed, after, "mailsec_messages_total")),
                         readable(want_messages))
        # Input errors: per kind, the number of sessions that showed it.
        want_errors = {}
        for s in shapes:
            for kind in s.input_errors():
                lab = metrics.labels(source=M, kind=kind)
                want_errors[lab] = want_errors.get(lab, 0) + 1
        self.assertEqual(readable(deltas(warmed, after, "mailsec_input_errors_total")),
                         readable(want_errors))
        unknown = sum(s.unknown_commands() for s in shapes)
        self.assertEqual(readable(deltas(warmed, after, "mailsec_unknown_commands_total")),
                         readable({metrics.labels(source=M, signature="other"): unknown}))
        want_tls = sum(1 for s in shapes if s.encrypted())
        self.assertEqual(after.total("mailsec_tls_sessions_total")
                         - warmed.total("mailsec_tls_sessions_total"), want_tls)
        self.assertEqual(deltas(warmed, after, "mailsec_errors_total"), {},
                         "no internal error")
        self.assertEqual(after.series_count(), series_before,
                         "hostile sessions must not add a metric series")

        # Memory: every session's state freed.
        wait_until(lambda: self._quiet(), timeout=30, interval=0.5, what="an idle milter")
        rss_after = self.status("VmRSS")
        bound = rss_before + RSS_PER_SESSION_KB * SESSIONS + RSS_SLACK_KB
        print(f"\nhostile sessions: series {series_before} before and after "
              f"({len(keys)} warm-up shapes); VmRSS {rss_before} kB before, {rss_open} kB with "
              f"{SESSIONS} open ({fds_open} descriptors), {rss_after} kB after "
              f"(bound {bound} kB); {sum(len(e) for e in map(Shape.input_errors, shapes))} "
              f"input errors, {want_tls} TLS sessions, "
              f"{sum(s.completed_messages() for s in shapes)} messages", flush=True)
        if processes.sanitized():
            # ASan's shadow memory and quarantine, TSan's shadow: RSS is not the milter's.
            print(f"memory bound not checked: the milter is built with -fsanitize="
                  f"{processes.sanitized()}", flush=True)
        else:
            self.assertLessEqual(rss_after, bound)
            self.assertLessEqual(rss_after, rss_open + 1024,
                                 "closing sessions frees, never grows")
        self.assertTrue(self.milter.alive(), self.milter.log()[-3000:])
        self.statuses.append(self.milter.stop())
        self.assertEqual(self.statuses[-1], 0, self.milter.log()[-3000:])

    def _quiet(self) -> bool:
        """True when the milter used no CPU over half a second (polled by wait_until)."""
        with open(f"/proc/{self.milter.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        now = int(fields[11]) + int(fields[12])
        last, self._cpu = getattr(self, "_cpu", None), now
        return last == now


if __name__ == "__main__":
    unittest.main()

"""The MTA side of the milter protocol (version 6), spoken straight to mailsec-milter: no MTA in
the way. Used by the benchmark tests/bench/milter_protocol_cost.py and by the integration tests
that send the milter what no real MTA would (test_milter_hostile_sessions.py).

Connection negotiates like an MTA that offers every SMFIP_NO*/NR_* step, then sends exactly the
steps the milter asks for (its SMFIC_OPTNEG answer) with the macros Postfix sends, and waits
only for the replies the milter owes (DATA, end of headers, body chunks, end of message).
Macro values, HELO names and header fields may be str or raw bytes (never NUL: the protocol
ends each string with one)."""
import socket
import struct

# SMFIP_* (libmilter/mfdef.h)
NOCONNECT, NOHELO, NOMAIL, NORCPT, NOBODY, NOHDRS, NOEOH = 0x1, 0x2, 0x4, 0x8, 0x10, 0x20, 0x40
NR_HDR, NOUNKNOWN, NODATA = 0x80, 0x100, 0x200
NR_CONN, NR_HELO, NR_MAIL, NR_RCPT, NR_DATA, NR_UNKN, NR_EOH, NR_BODY = (
    0x1000, 0x2000, 0x4000, 0x8000, 0x10000, 0x20000, 0x40000, 0x80000)
HDR_LEADSPC = 0x100000
ALL_STEPS = 0x1FFFFF
FINAL_REPLIES = set(b"acdrtyf4s")  # accept, continue, discard, reject, tempfail, replycode...
# libmilter refuses a packet longer than this (MILTER_MAX_DATA_SIZE) and drops the connection.
MAX_PACKET_DATA = 65535

# The TLS macros Postfix sends for a TLS 1.3 session without a client certificate.
TLS = {"{tls_version}": "TLSv1.3", "{cipher}": "TLS_AES_256_GCM_SHA384", "{cipher_bits}": "256",
       "{verify}": "NO"}


def _bytes(text) -> bytes:
    return text if isinstance(text, bytes) else text.encode()


def packet(cmd: bytes, data: bytes = b"") -> bytes:
    return struct.pack(">I", len(data) + 1) + cmd + data


def macros(stage: bytes, pairs: dict) -> bytes:
    return packet(b"D", stage + b"".join(_bytes(k) + b"\0" + _bytes(v) + b"\0"
                                         for k, v in pairs.items()))


class Message:
    """What the driver sends for one message: envelope, client, headers and body."""

    def __init__(self, client_ip, helo, mail_from, headers, body):
        self.client_ip, self.helo, self.mail_from = client_ip, helo, mail_from
        self.headers, self.body = headers, body


class Connection:
    """One MTA-side milter connection after option negotiation."""

    def __init__(self, port: int, timeout: float | None = None):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.sock.sendall(packet(b"O", struct.pack(">III", 6, 0x1FF, ALL_STEPS)))
        cmd, data = self.read()
        if cmd != b"O":
            raise RuntimeError(f"no SMFIC_OPTNEG answer: {cmd!r}")
        _, _, self.flags = struct.unpack(">III", data[:12])

    def read(self) -> tuple[bytes, bytes]:
        while len(self.buf) < 4 or len(self.buf) < 4 + struct.unpack(">I", self.buf[:4])[0]:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise RuntimeError("milter closed the connection")
            self.buf += chunk
        n = struct.unpack(">I", self.buf[:4])[0]
        cmd, data = self.buf[4:5], self.buf[5:4 + n]
        self.buf = self.buf[4 + n:]
        return cmd, data

    def replies(self, count: int) -> None:
        while count:
            cmd, _ = self.read()
            if cmd[0] in FINAL_REPLIES:
                count -= 1

    def _step(self, out: list, flag_skip: int, flag_noreply: int, data: bytes) -> None:
        """Appends a step unless skipped; a step owed a reply ends the current segment."""
        if self.flags & flag_skip:
            return
        self._add(out, data, not self.flags & flag_noreply)

    @staticmethod
    def _add(out: list, data: bytes, answered: bool) -> None:
        # `out` is a list of [bytes, replies owed]; like an MTA, the driver sends up to a step
        # that is answered and waits for the answer before the next (pipelining further would
        # leave the milter's small replies waiting on delayed ACKs: milter/negotiation.h).
        if not out or out[-1][1]:
            out.append([b"", 0])
        out[-1][0] += data
        if answered:
            out[-1][1] = 1

    def session_start(self, m: Message, port: int, tls: dict = TLS,
                      connect_macros: dict | None = None) -> list:
        """CONNECT and HELO; `tls` is sent with HELO ({} for a cleartext session so far) and
        `connect_macros` replace the CONNECT macros' defaults."""
        out = []
        self._add(out, macros(b"C", {"j": "mx1.mailsec.test", "{daemon_name}": "mx1",
                                     "{daemon_port}": str(port), "{daemon_addr}": "127.0.0.1",
                                     "{client_addr}": m.client_ip, "{client_port}": "40211",
                                     "{client_name}": m.helo, "{client_resolve}": "OK",
                                     **(connect_macros or {})}), False)
        self._step(out, NOCONNECT, NR_CONN, packet(
            b"C", _bytes(m.helo) + b"\0" + b"4" + struct.pack(">H", 40211) +
            _bytes(m.client_ip) + b"\0"))
        self._add(out, macros(b"H", tls), False)
        self._step(out, NOHELO, NR_HELO, packet(b"H", _bytes(m.helo) + b"\0"))
        return out

    def unknown(self, command) -> list:
        """An unknown SMTP command, as the MTA forwards it."""
        out = []
        self._step(out, NOUNKNOWN, NR_UNKN, packet(b"U", _bytes(command) + b"\0"))
        return out

    def message_head(self, m: Message, queue_id: str, tls: dict = TLS) -> list:
        """MAIL, RCPT, DATA and the headers of a message (`tls` sent with MAIL)."""
        out = []
        self._add(out, macros(b"M", {"i": queue_id, **tls}), False)
        self._step(out, NOMAIL, NR_MAIL, packet(b"M", b"<" + _bytes(m.mail_from) + b">\0"))
        self._add(out, macros(b"R", {"{rcpt_addr}": "user@mailsec.test"}), False)
        self._step(out, NORCPT, NR_RCPT, packet(b"R", b"<user@mailsec.test>\0"))
        self._add(out, macros(b"T", {"i": queue_id}), False)
        self._step(out, NODATA, NR_DATA, packet(b"T"))
        if not self.flags & NOHDRS:
            for name, value in m.headers:
                value = (b" " + _bytes(value)) if self.flags & HDR_LEADSPC else _bytes(value)
                self._add(out, packet(b"L", _bytes(name) + b"\0" + value + b"\0"),
                          not self.flags & NR_HDR)
        return out

    def message_tail(self, m: Message, queue_id: str, tls: dict = TLS) -> list:
        """End of headers, the body and end of message (`tls` sent with end of message)."""
        out = []
        self._step(out, NOEOH, NR_EOH, packet(b"N"))
        if not self.flags & NOBODY:
            for i in range(0, len(m.body), 65535):
                self._add(out, packet(b"B", m.body[i:i + 65535]), not self.flags & NR_BODY)
        self._add(out, macros(b"E", {"i": queue_id, **tls}), False)
        self._add(out, packet(b"E"), True)
        return out

    def message(self, m: Message, queue_id: str, tls: dict = TLS) -> list:
        return self.message_head(m, queue_id, tls) + self.message_tail(m, queue_id, tls)

    def send(self, segments: list) -> None:
        for data, owed in segments:
            self.sock.sendall(data)
            self.replies(owed)

    def abort(self) -> None:
        """SMFIC_ABORT: the MTA gives the current message up (the session goes on)."""
        self.sock.sendall(packet(b"A"))

    def close(self) -> None:
        try:
            self.sock.sendall(packet(b"Q"))
        finally:
            self.sock.close()

    def drop(self) -> None:
        """Closes the connection without SMFIC_QUIT, as an MTA that died would."""
        self.sock.close()


def one_session(port: int, m: Message, n: int, qid: int, smtp_port: int) -> None:
    c = Connection(port)
    segments = c.session_start(m, smtp_port)
    for i in range(n):
        c.send(segments + c.message(m, f"Q{qid + i:010X}"))
        segments = []
    c.close()

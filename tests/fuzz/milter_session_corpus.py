#!/usr/bin/env python3
"""Writes the seed corpus of tests/fuzz/milter_session.cc: realistic milter sessions encoded
the way FuzzedDataProvider reads them (strings from the front, every integer from the back).

Must stay in step with milter_session.cc: the Event order, kMacroNames and kMacroValues. It
only writes files under tests/fuzz/corpus/milter_session; it never runs anything.
    python3 tests/fuzz/milter_session_corpus.py
"""
import os

EVENTS = ["set_macro", "clear_macros", "connect", "helo", "envelope_from", "unknown_command",
          "header", "body", "end_of_message", "abort", "close", "drop"]
MACRO_NAMES = ["j", "i", "_", "{daemon_name}", "{daemon_port}", "{daemon_addr}",
               "{client_addr}", "{client_port}", "{client_name}", "{client_resolve}",
               "{tls_version}", "{cipher}", "{cipher_bits}", "{cert_subject}", "{cert_issuer}",
               "{verify}", "{auth_type}"]
MACRO_VALUES = ["TLSv1.3", "TLSv1.2", "TLSv1", "SSLv3", "TLS_AES_256_GCM_SHA384",
                "ECDHE-RSA-AES256-GCM-SHA384", "DHE-RSA-AES128-SHA", "RC4-MD5", "256", "128",
                "25", "587", "OK", "NO", "FAIL", "PLAIN", "mx.example.org", "MTA", "192.0.2.7",
                "/CN=client.example"]


class Input:
    """Front: strings as ConsumeRandomLengthString reads them; back: one byte per small
    integer, in the order they are consumed (reversed when written)."""

    def __init__(self, leading_space=False):
        self.front = bytearray()
        self.back = bytearray()
        self.byte(1 if leading_space else 0)

    def byte(self, value):
        self.back.append(value)

    def text(self, value):
        data = value.encode("latin-1") if isinstance(value, str) else value
        self.front += data.replace(b"\\", b"\\\\") + b"\\n"  # backslash + other byte: the end

    def event(self, name):
        self.byte(EVENTS.index(name))
        return self

    def macro(self, name, value):
        self.event("set_macro")
        self.byte(MACRO_NAMES.index(name))
        if value in MACRO_VALUES:
            self.byte(1)
            self.byte(MACRO_VALUES.index(value))
        else:
            self.byte(0)
            self.text(value)
        return self

    def macros(self, values):
        for name, value in values.items():
            self.macro(name, value)
        return self

    def connect(self, family="ipv4", address=bytes([192, 0, 2, 7])):
        self.event("connect")
        self.byte(["none", "ipv4", "ipv6", "unix"].index(family))
        if family == "ipv4":
            self.back += address  # ConsumeIntegral<uint32_t>: its first byte consumed is the top
        elif family == "ipv6":
            self.back += address
        return self

    def string_event(self, name, value):
        self.event(name)
        self.text(value)
        return self

    def header(self, name, value):
        self.event("header")
        self.text(name)
        self.text(value)
        return self

    def bytes(self):
        return bytes(self.front) + bytes(reversed(self.back))


TLS13 = {"{tls_version}": "TLSv1.3", "{cipher}": "TLS_AES_256_GCM_SHA384",
         "{cipher_bits}": "256"}
TLS12 = {"{tls_version}": "TLSv1.2", "{cipher}": "ECDHE-RSA-AES256-GCM-SHA384",
         "{cipher_bits}": "256", "{cert_subject}": "client.test", "{cert_issuer}": "Test CA"}
RECEIVED_TLS = ("from client.test (client.test [192.0.2.7])\r\n\t(using TLSv1.3 with cipher "
                "TLS_AES_256_GCM_SHA384 (256/256 bits))\r\n\tby mx.example.org (Postfix) with "
                "ESMTPS id 4ABC for <b@example.org>; Tue, 1 Dec 2026 10:00:00 +0000")
RECEIVED_PLAIN = ("from [198.51.100.9] (helo=laptop) by relay.example.net with esmtpa (Exim 4.96)"
                  " id 1abc; Tue, 1 Dec 2026 09:59:58 +0000")
DKIM = ("v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com; s=sel; h=from:to:subject; "
        "bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=AAAA")


def message(i, headers, body=("Hello.\r\n",)):
    for name, value in headers:
        i.header(name, value)
    for chunk in body:
        i.string_event("body", chunk)
    return i


def postfix_starttls():
    i = Input(leading_space=True)
    i.macros({"j": "mx.example.org", "{daemon_name}": "mx.example.org", "{daemon_port}": "25",
              "{client_name}": "client.test", "{client_addr}": "192.0.2.7"})
    i.connect()
    i.string_event("helo", "client.test")
    i.macros(TLS13).string_event("helo", "client.test")
    i.macro("i", "4ABC").string_event("envelope_from", "<alice@example.com>")
    message(i, [("Received", RECEIVED_TLS), ("DKIM-Signature", DKIM),
                ("From", "Alice <alice@example.com>"), ("Subject", "hi")])
    return i.event("end_of_message").event("close")


def sendmail_msa_auth():
    i = Input()
    i.macros({"j": "mail.example.org", "{daemon_name}": "MSA", "{daemon_port}": "587",
              "{client_resolve}": "OK"})
    i.connect("ipv6", bytes([0x20, 0x01, 0x0d, 0xb8] + [0] * 11 + [1]))
    i.macros(TLS12).macro("{verify}", "OK").string_event("helo", "[IPv6:2001:db8::1]")
    i.macro("{auth_type}", "PLAIN").string_event("envelope_from", "<bob@example.org>")
    message(i, [("From", "bob@example.org"), ("To", "carol@example.net")])
    i.event("end_of_message")
    i.string_event("envelope_from", "<bob@example.org>").header("Subject", "second")
    i.event("abort")
    i.string_event("envelope_from", "<>")
    message(i, [("Received", RECEIVED_PLAIN)], ("a\r\n", ".\r\n", ""))
    return i.event("end_of_message").event("close")


def cleartext_unknown_commands():
    i = Input()
    i.macros({"{daemon_port}": "25"}).connect("none")
    i.string_event("unknown_command", "XXXXXXXX arguments follow")
    i.string_event("unknown_command", "GET / HTTP/1.1")
    i.string_event("helo", b"bin\x00ary\xff helo")
    i.event("end_of_message")  # no MAIL before it
    return i.event("close")


def tls_only_at_mail():
    i = Input()
    i.connect("unix").string_event("helo", "c")
    i.macros({"{tls_version}": "TLSv1", "{cipher}": "RC4-MD5", "{cipher_bits}": "128"})
    i.string_event("envelope_from", "x@y").event("end_of_message").event("clear_macros")
    i.string_event("envelope_from", "x@y").event("end_of_message")
    return i.event("close")


def hostile_values():
    i = Input()
    i.macro("{daemon_name}", "D" * 1500).macro("{cert_subject}", "/CN=" + "\\" * 40 + "\x00")
    i.macro("{cipher_bits}", "99999999999999999999").macro("{tls_version}", "TLSv9.9")
    i.macro("{cipher}", "NOT-A-CIPHER").connect()
    i.string_event("helo", "h" * 300).string_event("envelope_from", "@" * 20)
    for n in range(60):  # past the Received caps
        i.header("Received", RECEIVED_TLS if n % 2 else "from garbage ((( by")
    i.header("", "").header("Received", "\x00\r\n\r\n").string_event("body", "\x00" * 64)
    return i.event("end_of_message").event("drop")


def sessions_back_to_back():
    i = Input()
    for port in ("25", "587", "2525"):
        i.macro("{daemon_port}", port).connect().macros(TLS13).string_event("helo", "c.test")
        i.string_event("envelope_from", "<a@b.example>").header("Received", RECEIVED_PLAIN)
        i.event("end_of_message").event("close")
    i.connect().event("drop")  # the last connection goes away without close
    i.event("close")  # a session only negotiated
    return i


SEEDS = {
    "postfix_starttls": postfix_starttls,
    "sendmail_msa_auth": sendmail_msa_auth,
    "cleartext_unknown_commands": cleartext_unknown_commands,
    "tls_only_at_mail": tls_only_at_mail,
    "hostile_values": hostile_values,
    "sessions_back_to_back": sessions_back_to_back,
}


def main():
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "milter_session")
    os.makedirs(out, exist_ok=True)
    for name, build in SEEDS.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(build().bytes())


if __name__ == "__main__":
    main()

"""A forwarder that returns no DNSSEC signatures (docs/auth.md, "Validation"): with
dns.dnssec: validate, every answer through it would be bogus and every DMARC lookup a
temperror. The milter's start-up probe (". DNSKEY") must find that, log one warning line,
count it in mailsec_errors_total{component="core"}, and turn validation off, so that messages
verify normally with their records reported dnssec="unknown".

The forwarder is authworld/strip_proxy.py in front of the test world's NSD: the same world
(its signed root, signed.test) whose answers validate secure without the proxy
(test_auth_postfix.py), with the RRSIGs taken out."""
import os
import subprocess
import time
import unittest

from authworld import world
from fixtures import readable
from harness.ports import wait_until
from test_auth_postfix import DEBIAN_PYTHON, HERE, AuthCase, send

WARNING = "return no DNSSEC signatures"


class StrippingForwarder:
    """strip_proxy.py in front of `dns`; milter_dns_yaml() points the milter at the proxy
    with the world's trust anchors, as AuthStack expects of a DnsWorld."""

    def __init__(self, dns):
        self.dns = dns
        self.proc = subprocess.Popen(
            [DEBIAN_PYTHON, os.path.join(HERE, "authworld", "strip_proxy.py"), str(dns.port)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.forwarder = f"127.0.0.1@{int(self.proc.stdout.readline())}"

    def milter_dns_yaml(self, timeout_ms: int = 1500, dnssec: str = "validate") -> str:
        return self.dns.milter_dns_yaml(timeout_ms, dnssec).replace(self.dns.forwarder,
                                                                    self.forwarder)

    def stop(self) -> None:
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class UnsignedForwarder(AuthCase):
    proxy = None

    @classmethod
    def milter_dns(cls):
        cls.proxy = StrippingForwarder(cls.world.dns)
        return cls.proxy

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            cls.proxy.stop()

    def test_validation_is_turned_off_once_logged_and_counted(self):
        # The probe runs after the sockets are bound, before libmilter's loop: wait for it.
        wait_until(lambda: "started " in self.stack.milter.log() or None, timeout=15,
                   interval=0.1, what="the milter's start-up")
        before = self.scrape()
        log = self.stack.milter.log()
        lines = [line for line in log.splitlines() if WARNING in line]
        self.assertEqual(len(lines), 1, log)
        print(f"\n{lines[0]}", flush=True)
        self.assertIn(f"dns: the resolver(s) {self.proxy.forwarder} return no DNSSEC "
                      "signatures (\". DNSKEY\" is bogus: ", lines[0])
        self.assertIn("DNSSEC validation is off — records are reported dnssec=\"unknown\"",
                      lines[0])
        self.assertEqual(readable(before.nonzero("mailsec_errors_total")),
                         {"component=core": 1.0}, log)

        # A signed zone (secure without the proxy) and an unsigned one: normal verdicts, every
        # record unknown — not bogus, DMARC not temperror.
        sent = [m for m in world.MESSAGES if m["id"] in ("dnssec-secure", "aligned-pass")]
        for m in sent:
            send(self.stack.mx_port, m, self.world.messages[m["id"]])
        unknown = [dict(m, records=[(r, "unknown") for r, _ in m["records"]]) for m in sent]
        want = world.expected_deltas(unknown)
        after = self.wait_verdicts(before, want)
        time.sleep(0.5)
        after = self.scrape()
        for family, series in want.items():
            self.assert_deltas(before, after, family, series)
        self.assert_deltas(before, after, "mailsec_errors_total", {})
        self.assertEqual(len([line for line in self.stack.milter.log().splitlines()
                              if WARNING in line]), 1)


if __name__ == "__main__":
    unittest.main()

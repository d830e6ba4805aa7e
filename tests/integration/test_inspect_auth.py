"""mailsec-inspect's verdicts against the real test world (authworld/README.md): NSD serves
the zones, mailsec's resolver (libunbound, validating with the world's trust anchors) asks
it, and for every message of the verdict table (authworld/world.py, DKIM-signed by Debian's
python3-dkim — an independent signer) `mailsec-inspect --json --dns --client-ip --helo
--mail-from` must give exactly the table's SPF result and error, DKIM results and reasons in
signature order (with domains and algorithms), DMARC result, policy and pct flag, the method
mix, and the records with their DNSSEC status. Without --dns the same messages must show no
DNS-dependent verdict.

No MTA is involved: this checks the per-message verification the milter runs (core/auth
Authenticator's MessageVerification) end to end through real DNS, and the inspect front-end
over it; test_auth_postfix checks the same table through Postfix and /metrics."""
import json
import os
import subprocess
import unittest

import test_auth_postfix as auth
from authworld import world
from fixtures import new_workdir, remove_workdir
from harness import processes


def inspect(*args: str) -> dict:
    r = subprocess.run([os.path.join(processes.build_dir(), "report", "mailsec-inspect"),
                        "--json", *args], capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise AssertionError(f"mailsec-inspect exited {r.returncode}: {r.stderr}")
    return json.loads(r.stdout)["auth"]


class InspectVerdicts(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.workdir = new_workdir(cls.__name__)
        cls.world = auth.AuthWorld(cls.workdir)

    @classmethod
    def tearDownClass(cls):
        cls.world.stop()
        remove_workdir(cls.workdir, [])

    def test_verdicts_match_the_table(self):
        dns = self.world.dns
        for m in world.MESSAGES:
            with self.subTest(message=m["id"]):
                got = inspect("--dns", dns.forwarder, "--trust-anchor", dns.trust_anchor,
                              "--client-ip", m["ip"], "--helo", m["ehlo"],
                              "--mail-from", m["mail_from"], self.world.messages[m["id"]])
                self.assertEqual(got["source"], "verified")
                self.assertIsNotNone(got["spf"], m["note"])
                self.assertEqual((got["spf"]["result"], got["spf"]["error"]), tuple(m["spf"]))
                self.assertEqual([(d["result"], d["reason"]) for d in got["dkim"]],
                                 [tuple(v) for v in m["dkim"]])
                self.assertEqual([d["domain"] for d in got["dkim"]],
                                 [s[0] for s in m["sigs"]])
                self.assertEqual([d["algorithm"] for d in got["dkim"]],
                                 [s[3] for s in m["sigs"]])
                dmarc = got["dmarc"]
                self.assertEqual((dmarc["result"], dmarc["policy"],
                                  "true" if dmarc["partial"] else "false") if dmarc else
                                 ("none", "absent", "false"), tuple(m["dmarc"]))
                self.assertEqual(got["method"], m["method"])
                self.assertEqual([(r["record"], r["dnssec"]) for r in got["records"]],
                                 [tuple(r) for r in m["records"]])

    def test_without_a_resolver_nothing_needing_dns_is_claimed(self):
        for m in world.MESSAGES:
            with self.subTest(message=m["id"]):
                got = inspect(self.world.messages[m["id"]])
                self.assertEqual(got["resolver"], "none")
                self.assertEqual(got["records"], [])
                self.assertIsNone(got["spf"], "SPF needs DNS (and a client address)")
                self.assertEqual(len(got["dkim"]), len(m["sigs"]))
                for d, want in zip(got["dkim"], m["dkim"]):
                    # Only what needs no key may be said: a syntax error or an expiry.
                    if d["result"] is not None:
                        self.assertEqual((d["result"], d["reason"]), tuple(want))
                        self.assertIn(d["reason"], ("syntax", "expired"))


if __name__ == "__main__":
    unittest.main()

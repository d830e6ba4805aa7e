"""The SPF/DKIM/DMARC test world: every test domain, the DNS records it publishes, and the
verdict each must yield. One table, read by harness/dns.py (to build and serve the zones), by
authworld/messages.py (to sign the test messages) and by the tests (to know what to expect).
README.md next to this file renders the same table for people.

Names live under the reserved .test TLD (RFC 6761); client addresses come from the
documentation ranges (RFC 5737, RFC 3849) and reach Postfix through XCLIENT. Key material is
generated at test time (harness/dns.py): nothing secret is committed.

Plain data and stdlib only: it is imported both by the pyenv interpreter that runs the tests
and by Debian's /usr/bin/python3 that runs the independent verifiers."""

# SPF-authorized client addresses (inside every "authorized" ip4:/ip6: range below) and one
# address no record authorizes.
GOOD_IP = "192.0.2.10"
GOOD_IP6 = "2001:db8::10"
BAD_IP = "198.51.100.20"
AUTHORIZED_NET = "192.0.2.0/24"
AUTHORIZED_NET6 = "2001:db8::/32"
UNRELATED_IP = "203.0.113.1"  # what the toomany.test lookups resolve to (authorizes nobody)

# The zones NSD serves. "test" holds every unsigned domain; the others are separate zones.
UNSIGNED_ZONE = "test"
SIGNED_ZONE = "signed.test"      # DNSSEC-signed, valid signatures: answers are secure
BOGUS_ZONE = "bogus.test"        # DNSSEC-signed with signatures that expired in 2020: bogus
SERVFAIL_ZONE = "servfail.test"  # configured in NSD without data: every query gets SERVFAIL

# DKIM keys generated at test time: name -> (kind, bits). kind rsa keys are PKCS#1 PEM,
# ed25519 keys a base64 32-byte seed (what python3-dkim's dkim.sign takes).
KEYS = {
    "k512": ("rsa", 512),
    "k1024": ("rsa", 1024),
    "k2048": ("rsa", 2048),
    "ed": ("ed25519", 256),
    "s1": ("rsa", 2048),  # the key of every DMARC domain (selector s1)
}

_SPF_STRICT = f"v=spf1 ip4:{AUTHORIZED_NET} -all"

# Per domain: the SPF record(s) (a list: duplicate.test has two), DKIM selectors
# ({selector: key name, or "" for a revoked key}), the DMARC record, and extra records
# (name relative to the domain, type, rdata). Every domain gets an A record (UNRELATED_IP).
DOMAINS = {
    # SPF results (MAIL FROM identity)
    "hardfail.test": {"spf": [f"v=spf1 ip4:{AUTHORIZED_NET} ip6:{AUTHORIZED_NET6} -all"]},
    "softfail.test": {"spf": [f"v=spf1 ip4:{AUTHORIZED_NET} ~all"]},
    "neutral.test": {"spf": [f"v=spf1 ip4:{AUTHORIZED_NET} ?all"]},
    "nospf.test": {},
    "include.test": {"spf": ["v=spf1 include:hardfail.test -all"]},
    "broken.test": {"spf": [f"v=spf1 ip4:{AUTHORIZED_NET} frobnicate -all"]},
    "duplicate.test": {"spf": [_SPF_STRICT, "v=spf1 -all"]},
    "toomany.test": {
        "spf": ["v=spf1 " + " ".join(f"a:l{i}.toomany.test" for i in range(1, 12)) + " -all"],
        "extra": [(f"l{i}", "A", UNRELATED_IP) for i in range(1, 12)],
    },
    # DKIM keys (no DMARC record: DMARC policy absent)
    "dkim.test": {
        "spf": [_SPF_STRICT],
        "dkim": {"k512": "k512", "k1024": "k1024", "k2048": "k2048", "ed": "ed",
                 "revoked": ""},
        # selector "absent" is deliberately not published: key_not_found
    },
    # DMARC policies
    "reject.test": {"spf": [_SPF_STRICT], "dkim": {"s1": "s1"},
                    "dmarc": "v=DMARC1; p=reject; sp=quarantine"},
    "quarantine.test": {"spf": [_SPF_STRICT], "dkim": {"s1": "s1"},
                        "dmarc": "v=DMARC1; p=quarantine"},
    "monitor.test": {"spf": [_SPF_STRICT], "dkim": {"s1": "s1"}, "dmarc": "v=DMARC1; p=none"},
    "partial.test": {"spf": [_SPF_STRICT], "dkim": {"s1": "s1"},
                     "dmarc": "v=DMARC1; p=reject; pct=50"},
    # DNSSEC
    SIGNED_ZONE: {"spf": [_SPF_STRICT], "dkim": {"s1": "s1"}, "dmarc": "v=DMARC1; p=reject"},
    BOGUS_ZONE: {"spf": [_SPF_STRICT], "dkim": {"s1": "s1"}, "dmarc": "v=DMARC1; p=reject"},
}


def txt_rdata(text: str) -> str:
    """A TXT rdata in zone-file syntax: character-strings of at most 255 octets each."""
    chunks = [text[i:i + 200] for i in range(0, len(text), 200)] or [""]
    return " ".join('"' + c.replace("\\", "\\\\").replace('"', '\\"') + '"' for c in chunks)


def dkim_key_record(kind: str, public_b64: str) -> str:
    return f"v=DKIM1; k={kind}; p={public_b64}"


def zone_of(domain: str) -> str:
    for zone in (SIGNED_ZONE, BOGUS_ZONE, SERVFAIL_ZONE):
        if domain == zone or domain.endswith("." + zone):
            return zone
    return UNSIGNED_ZONE


def records(public_keys: dict) -> dict:
    """{zone: [(owner FQDN, type, rdata)]} for every domain; public_keys maps key name ->
    (kind, base64 public key as published in p=)."""
    out = {UNSIGNED_ZONE: [], SIGNED_ZONE: [], BOGUS_ZONE: []}
    for domain, spec in DOMAINS.items():
        rrs = out[zone_of(domain)]
        rrs.append((domain, "A", UNRELATED_IP))
        for spf in spec.get("spf", []):
            rrs.append((domain, "TXT", txt_rdata(spf)))
        for selector, key in spec.get("dkim", {}).items():
            text = (dkim_key_record(*public_keys[key]) if key
                    else "v=DKIM1; k=rsa; p=")
            rrs.append((f"{selector}._domainkey.{domain}", "TXT", txt_rdata(text)))
        if "dmarc" in spec:
            rrs.append((f"_dmarc.{domain}", "TXT", txt_rdata(spec["dmarc"])))
        for name, rtype, rdata in spec.get("extra", []):
            rrs.append((f"{name}.{domain}", rtype, rdata))
    return out


# Fresh domains for the outage test (never queried before it, so no cache can answer).
OUTAGE_DOMAIN = "down.test"
RECOVERY_DOMAIN = "recover.test"
for _d in (OUTAGE_DOMAIN, RECOVERY_DOMAIN):
    DOMAINS[_d] = {"spf": [_SPF_STRICT], "dkim": {"s1": "s1"},
                   "dmarc": "v=DMARC1; p=quarantine"}


# ---- the test messages and their verdicts ---------------------------------------------------
#
# Each message: the client address presented through XCLIENT, the EHLO name, the envelope
# sender (MAIL FROM; "" for a bounce, when SPF checks the HELO name), the From header's
# address, and its DKIM signatures — (signing domain, selector, key, algorithm, tweak):
#   tweak None      a good signature
#         "body"    the body changed after signing (body hash mismatch)
#         "header"  the Subject changed after signing (signature mismatch)
#         "expired" signed with t= 2 days and x= 1 day in the past
#         "duptag"  the tag list has s= twice (RFC 6376 §3.2: the whole tag-list is invalid)
#
# Expected verdicts use the label values of docs/metrics.md:
#   spf    (result, error)
#   dkim   [(result, reason)] one per signature, in header order
#   dmarc  (result, policy, partial)
#   method mailsec_auth_methods_total{method}
#   records [(record, dnssec)]: mailsec_auth_records_total — one per record *found*: each
#          SPF record fetched (the checked domain's and its includes'; once per RRset, so once
#          when duplicated), each DKIM key record fetched (a revoked key counts; NXDOMAIN does
#          not; a signature rejected before key lookup — expired, syntax — fetches none,
#          RFC 6376 §6.1.1 before §6.1.2), the DMARC record (the From domain's, or the
#          organizational domain's it fell back to). A bogus answer counts as found, with
#          dnssec=bogus; timeouts, SERVFAIL, NXDOMAIN and NODATA are not counted. Zone test. is
#          insecure, signed.test secure.

def _m(mid, ip, mail_from, from_addr, sigs, spf, dkim, dmarc, method, records, ehlo=None,
       note=""):
    return {"id": mid, "ip": ip, "ehlo": ehlo or "client.example.test", "mail_from": mail_from,
            "from": from_addr, "sigs": sigs, "spf": spf, "dkim": dkim, "dmarc": dmarc,
            "method": method, "records": records, "note": note}


_I = "insecure"
PASS, NONE = ("pass", "none"), ("none", "none")
ABSENT = ("none", "absent", "false")

MESSAGES = [
    _m("aligned-pass", GOOD_IP, "a@reject.test", "a@reject.test",
       [("reject.test", "s1", "s1", "rsa-sha256", None)],
       PASS, [PASS], ("pass", "reject", "false"), "dkim_and_spf",
       [("spf", _I), ("dkim_key", _I), ("dmarc", _I)]),
    _m("spf-fail-dkim-pass", BAD_IP, "a@reject.test", "a@reject.test",
       [("reject.test", "s1", "s1", "rsa-sha256", None)],
       ("fail", "none"), [PASS], ("pass", "reject", "false"), "dkim_only",
       [("spf", _I), ("dkim_key", _I), ("dmarc", _I)]),
    _m("spoofed-reject", BAD_IP, "a@reject.test", "a@reject.test", [],
       ("fail", "none"), [], ("fail", "reject", "false"), "none",
       [("spf", _I), ("dmarc", _I)], note="unsigned, unauthorized"),
    _m("softfail-quarantine", BAD_IP, "b@softfail.test", "a@quarantine.test", [],
       ("softfail", "none"), [], ("fail", "quarantine", "false"), "none",
       [("spf", _I), ("dmarc", _I)]),
    _m("monitor-spf-aligned", GOOD_IP, "a@monitor.test", "a@monitor.test", [],
       PASS, [], ("pass", "none", "false"), "spf_only",
       [("spf", _I), ("dmarc", _I)]),
    _m("partial-body-altered", BAD_IP, "b@neutral.test", "a@partial.test",
       [("partial.test", "s1", "s1", "rsa-sha256", "body")],
       ("neutral", "none"), [("fail", "body_hash_mismatch")], ("fail", "reject", "true"),
       "none", [("spf", _I), ("dkim_key", _I), ("dmarc", _I)]),
    _m("header-altered", GOOD_IP, "b@hardfail.test", "a@dkim.test",
       [("dkim.test", "k1024", "k1024", "rsa-sha256", "header")],
       PASS, [("fail", "signature_mismatch")], ABSENT, "spf_only",
       [("spf", _I), ("dkim_key", _I)]),
    _m("two-signatures", BAD_IP, "b@nospf.test", "a@dkim.test",
       [("dkim.test", "k1024", "k1024", "rsa-sha256", None),
        ("dkim.test", "k2048", "k2048", "rsa-sha256", None)],
       NONE, [PASS, PASS], ABSENT, "dkim_only",
       [("dkim_key", _I), ("dkim_key", _I)]),
    _m("key-512", BAD_IP, "b@nospf.test", "a@dkim.test",
       [("dkim.test", "k512", "k512", "rsa-sha256", None)],
       NONE, [("permerror", "key_too_small")], ABSENT, "none", [("dkim_key", _I)]),
    _m("key-revoked", BAD_IP, "b@nospf.test", "a@dkim.test",
       [("dkim.test", "revoked", "k1024", "rsa-sha256", None)],
       NONE, [("permerror", "key_revoked")], ABSENT, "none", [("dkim_key", _I)]),
    _m("key-missing", BAD_IP, "b@nospf.test", "a@dkim.test",
       [("dkim.test", "absent", "k1024", "rsa-sha256", None)],
       NONE, [("permerror", "key_not_found")], ABSENT, "none", []),
    _m("expired", BAD_IP, "b@nospf.test", "a@dkim.test",
       [("dkim.test", "k1024", "k1024", "rsa-sha256", "expired")],
       NONE, [("permerror", "expired")], ABSENT, "none", []),
    _m("duplicated-tag", BAD_IP, "b@nospf.test", "a@dkim.test",
       [("dkim.test", "k1024", "k1024", "rsa-sha256", "duptag")],
       NONE, [("permerror", "syntax")], ABSENT, "none", []),
    _m("rsa-sha1", BAD_IP, "b@nospf.test", "a@dkim.test",
       [("dkim.test", "k2048", "k2048", "rsa-sha1", None)],
       NONE, [PASS], ABSENT, "dkim_only", [("dkim_key", _I)],
       note="RFC 8301 deprecates rsa-sha1 but libopendkim and python3-dkim still verify it"),
    _m("ed25519", BAD_IP, "b@nospf.test", "a@dkim.test",
       [("dkim.test", "ed", "ed", "ed25519-sha256", None)],
       NONE, [PASS], ABSENT, "dkim_only", [("dkim_key", _I)]),
    _m("dnssec-secure", GOOD_IP, "a@signed.test", "a@signed.test",
       [("signed.test", "s1", "s1", "rsa-sha256", None)],
       PASS, [PASS], ("pass", "reject", "false"), "dkim_and_spf",
       [("spf", "secure"), ("dkim_key", "secure"), ("dmarc", "secure")]),
    _m("dnssec-bogus", GOOD_IP, "a@bogus.test", "a@bogus.test",
       [("bogus.test", "s1", "s1", "rsa-sha256", None)],
       ("temperror", "dns_temporary"), [("temperror", "other")],
       ("temperror", "absent", "false"), "none",
       [("spf", "bogus"), ("dkim_key", "bogus"), ("dmarc", "bogus")],
       note="validation fails: every lookup SERVFAILs"),
    _m("spf-syntax-error", GOOD_IP, "a@broken.test", "a@broken.test", [],
       ("permerror", "invalid_record"), [], ABSENT, "none", [("spf", _I)]),
    _m("spf-two-records", GOOD_IP, "a@duplicate.test", "a@duplicate.test", [],
       ("permerror", "invalid_record"), [], ABSENT, "none", [("spf", _I)]),
    _m("spf-too-many-lookups", GOOD_IP, "a@toomany.test", "a@toomany.test", [],
       ("permerror", "too_many_lookups"), [], ABSENT, "none", [("spf", _I)]),
    _m("spf-servfail", GOOD_IP, "a@servfail.test", "a@dkim.test", [],
       ("temperror", "dns_temporary"), [], ABSENT, "none", []),
    _m("spf-include-pass", GOOD_IP, "a@include.test", "a@include.test", [],
       PASS, [], ABSENT, "spf_only", [("spf", _I), ("spf", _I)],
       note="include:hardfail.test: two SPF records fetched"),
    _m("dmarc-subdomain", BAD_IP, "a@news.reject.test", "a@news.reject.test",
       [("reject.test", "s1", "s1", "rsa-sha256", None)],
       NONE, [PASS], ("pass", "quarantine", "false"), "dkim_only",
       [("dkim_key", _I), ("dmarc", _I)],
       note="no _dmarc.news.reject.test: the organizational domain's record, its sp=; "
            "d=reject.test aligns in relaxed mode; news.reject.test has no SPF record"),
    _m("ipv6-pass", GOOD_IP6, "a@hardfail.test", "a@hardfail.test", [],
       PASS, [], ABSENT, "spf_only", [("spf", _I)]),
    _m("bounce-helo-pass", GOOD_IP, "", "postmaster@hardfail.test", [],
       PASS, [], ABSENT, "spf_only", [("spf", _I)], ehlo="hardfail.test",
       note="null sender: SPF checks the HELO identity"),
]

# The outage test: while the server is paused, messages like this one (fresh domain) must
# yield temperrors and fetch nothing; after it resumes, RECOVERY_MESSAGE must pass again.
OUTAGE_MESSAGE = _m(
    "outage", GOOD_IP, f"a@{OUTAGE_DOMAIN}", f"a@{OUTAGE_DOMAIN}",
    [(OUTAGE_DOMAIN, "s1", "s1", "rsa-sha256", None)],
    ("temperror", "dns_timeout"), [("temperror", "other")], ("temperror", "absent", "false"),
    "none", [])
RECOVERY_MESSAGE = _m(
    "recovery", GOOD_IP, f"a@{RECOVERY_DOMAIN}", f"a@{RECOVERY_DOMAIN}",
    [(RECOVERY_DOMAIN, "s1", "s1", "rsa-sha256", None)],
    PASS, [PASS], ("pass", "quarantine", "false"), "dkim_and_spf",
    [("spf", _I), ("dkim_key", _I), ("dmarc", _I)])


def expected_deltas(messages) -> dict:
    """{family: {frozenset(labels): count}} that `messages` must add to /metrics."""
    out = {f: {} for f in ("mailsec_spf_results_total", "mailsec_dkim_signatures_total",
                           "mailsec_dmarc_results_total", "mailsec_auth_records_total",
                           "mailsec_auth_methods_total", "mailsec_verifications_dropped_total")}

    def add(family, **labels):
        key = frozenset((k, str(v)) for k, v in labels.items())
        out[family][key] = out[family].get(key, 0) + 1

    for m in messages:
        add("mailsec_spf_results_total", result=m["spf"][0], error=m["spf"][1])
        for result, reason in m["dkim"]:
            add("mailsec_dkim_signatures_total", result=result, reason=reason)
        if m["dmarc"]:
            add("mailsec_dmarc_results_total", result=m["dmarc"][0], policy=m["dmarc"][1],
                partial=m["dmarc"][2])
        for record, dnssec in m["records"]:
            add("mailsec_auth_records_total", record=record, dnssec=dnssec)
        add("mailsec_auth_methods_total", method=m["method"])
    return out


def markdown_table() -> str:
    """The message table of README.md (python3 -m authworld.world prints it)."""
    def sig(s):
        domain, selector, key, algorithm, tweak = s
        return f"d={domain} s={selector} ({key}, {algorithm}{', ' + tweak if tweak else ''})"

    def pair(result, why):
        return result + ("" if why == "none" else "/" + why)

    rows = ["| message | client | MAIL FROM | From | DKIM signatures | SPF | DKIM | "
            "DMARC (result, policy, partial) | method | records (record/dnssec) |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for m in MESSAGES + [OUTAGE_MESSAGE, RECOVERY_MESSAGE]:
        mail_from = m["mail_from"] or f"`<>` (HELO {m['ehlo']})"
        rows.append(" | ".join([
            f"| {m['id']}", m["ip"], mail_from, m["from"],
            "<br>".join(sig(s) for s in m["sigs"]) or "unsigned", pair(*m["spf"]),
            "; ".join(pair(*d) for d in m["dkim"]) or "—", ", ".join(m["dmarc"]),
            m["method"], ", ".join(f"{r}/{d}" for r, d in m["records"]) or "—"]) + " |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(markdown_table())

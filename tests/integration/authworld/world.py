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
    "reject.test": {"spf": [_SPF_STRICT], "dkim": {"s1": "s1"}, "dmarc": "v=DMARC1; p=reject"},
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

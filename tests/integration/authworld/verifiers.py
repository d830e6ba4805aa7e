#!/usr/bin/python3
"""Independent verdicts for the test messages, from Debian's own verifiers pointed at the test
DNS server: python3-spf (pyspf's RFC 7208 evaluation) for SPF, python3-dkim (dkimpy's
dkim.DKIM.verify) for DKIM, and a small RFC 7489 evaluation for DMARC (record parsing,
organizational domain by the public-suffix default rule, relaxed alignment). Their DNS is
python3-dnspython querying NSD directly, with its own DNSSEC validation (dns.dnssec) of the
answers under the trust anchors, so bogus answers become SERVFAIL as they do behind a
validating resolver, and every record gets a secure / insecure / bogus status.

Run under Debian's /usr/bin/python3:
    /usr/bin/python3 authworld/verifiers.py WORLD_CONFIG_JSON MESSAGE_DIR [ID ...]
Prints {id: {"spf": [result, error], "dkim": [[result, reason], ...],
             "dmarc": [result, policy, partial], "method": ..., "records": [[record, dnssec]]}}
in the label vocabulary of docs/metrics.md, for comparison with world.MESSAGES."""
import json
import logging
import os
import sys
import time

import dkim
import dkim.util
import dns.dnssec
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdata
import dns.rdatatype
import dns.rrset
import spf

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from authworld import world  # noqa: E402

TIMEOUT = 2.0


class Answer:
    def __init__(self, status, rrset=None, dnssec="insecure"):
        self.status = status  # answer | nodata | nxdomain | servfail | timeout
        self.rrset = rrset
        self.dnssec = dnssec


class WorldDns:
    """Stub queries to the test server, validated (dns.dnssec) under the trust anchors."""

    def __init__(self, port: int, anchor_files: dict):
        self.port = port
        self.anchors = {}  # zone name -> [DS rdata]
        for zone, path in anchor_files.items():
            with open(path) as f:
                for line in f:
                    parts = line.split()  # owner [ttl] [class] DS rdata
                    if "DS" in parts and not line.startswith(";"):
                        rdata = " ".join(parts[parts.index("DS") + 1:])
                        ds = dns.rdata.from_text("IN", "DS", rdata)
                        self.anchors.setdefault(dns.name.from_text(zone), []).append(ds)
        self.keys = {}  # zone name -> validated DNSKEY rrset, or None when bogus
        self.log = []   # (name, type, Answer) of every lookup

    def _ask(self, name, rdtype):
        q = dns.message.make_query(name, rdtype, want_dnssec=True)
        try:
            r = dns.query.udp(q, "127.0.0.1", port=self.port, timeout=TIMEOUT)
            if r.flags & dns.flags.TC:
                r = dns.query.tcp(q, "127.0.0.1", port=self.port, timeout=TIMEOUT)
        except dns.exception.Timeout:
            return None
        return r

    def _anchor_zone(self, name):
        for zone in self.anchors:
            if name.is_subdomain(zone):
                return zone
        return None

    def _zone_keys(self, zone):
        if zone not in self.keys:
            self.keys[zone] = None
            r = self._ask(zone, dns.rdatatype.DNSKEY)
            if r is not None:
                keys = r.find_rrset(r.answer, zone, dns.rdataclass.IN, dns.rdatatype.DNSKEY)
                sigs = r.find_rrset(r.answer, zone, dns.rdataclass.IN, dns.rdatatype.RRSIG,
                                    dns.rdatatype.DNSKEY)
                anchored = [k for k in keys if any(
                    dns.dnssec.make_ds(zone, k, ds.digest_type) == ds
                    for ds in self.anchors[zone])]
                try:
                    if anchored:
                        dns.dnssec.validate(keys, sigs, {zone: keys})
                        self.keys[zone] = keys
                except dns.dnssec.ValidationFailure:
                    pass
        return self.keys[zone]

    def lookup(self, name: str, rdtype) -> Answer:
        qname = dns.name.from_text(name)
        rdtype = dns.rdatatype.from_text(rdtype) if isinstance(rdtype, str) else rdtype
        r = self._ask(qname, rdtype)
        if r is None:
            a = Answer("timeout", dnssec="unknown")
        elif r.rcode() == dns.rcode.NXDOMAIN:
            a = Answer("nxdomain")
        elif r.rcode() != dns.rcode.NOERROR:
            a = Answer("servfail", dnssec="unknown")
        else:
            try:
                rrset = r.find_rrset(r.answer, qname, dns.rdataclass.IN, rdtype)
                a = Answer("answer", rrset)
            except KeyError:
                a = Answer("nodata")
        zone = self._anchor_zone(qname)
        if zone is not None and a.status in ("answer", "nodata", "nxdomain"):
            keys = self._zone_keys(zone)
            a.dnssec = "bogus"
            if keys is not None and a.status == "answer":
                try:
                    sigs = r.find_rrset(r.answer, qname, dns.rdataclass.IN,
                                        dns.rdatatype.RRSIG, rdtype)
                    dns.dnssec.validate(a.rrset, sigs, {zone: keys})
                    a.dnssec = "secure"
                except (KeyError, dns.dnssec.ValidationFailure):
                    pass
            elif keys is not None:
                a.dnssec = "secure"  # denial of existence: NSEC not checked here
        self.log.append((name, dns.rdatatype.to_text(rdtype), a))
        return a

    def txt(self, name: str) -> Answer:
        return self.lookup(name, "TXT")


def txt_strings(answer: Answer) -> list[bytes]:
    if answer.status != "answer":
        return []
    return [b"".join(rd.strings) for rd in answer.rrset]


# ---- SPF: pyspf with its DNS pointed at the world -------------------------------------------

class SpfTimeout(spf.TempError):
    pass


def install_spf_dns(resolver: WorldDns) -> None:
    def lookup(name, qtype, tcpfallback=True, timeout=30):
        a = resolver.lookup(name, qtype)
        if a.status == "timeout":
            raise SpfTimeout("DNS timeout")
        if a.status == "servfail" or a.dnssec == "bogus":
            raise spf.TempError("DNS SERVFAIL")
        out = []
        if a.status == "answer":
            for rd in a.rrset:
                if qtype in ("A", "AAAA"):
                    out.append(((name, qtype), rd.address))
                elif qtype == "MX":
                    out.append(((name, qtype), (rd.preference, rd.exchange)))
                elif qtype == "PTR":
                    out.append(((name, qtype), rd.target.to_text(True)))
                elif qtype in ("TXT", "SPF"):
                    out.append(((name, qtype), list(rd.strings)))
        return out
    spf.DNSLookup = lookup


def check_spf(resolver: WorldDns, m: dict):
    sender = m["mail_from"] or f"postmaster@{m['ehlo']}"
    q = spf.query(i=m["ip"], s=sender, h=m["ehlo"], timeout=10)
    try:
        result, _, explanation = q.check()
    except SpfTimeout:
        result, explanation = "temperror", "DNS timeout"
    error = "none"
    if result == "permerror":
        error = "too_many_lookups" if "Too many DNS lookups" in explanation else \
            "invalid_record"
    elif result == "temperror":
        error = "dns_timeout" if "timeout" in explanation.lower() else "dns_temporary"
    # The records mailsec must count: every SPF record pyspf's lookups found (the checked
    # domain's and its includes'; one per RRset), and every bogus TXT answer.
    records = []
    for name, rtype, a in resolver.log:
        if rtype == "TXT":
            if a.dnssec == "bogus":
                records.append(("spf", "bogus"))
            elif any(s.lower().startswith(b"v=spf1") for s in txt_strings(a)):
                records.append(("spf", a.dnssec))
    return [result, error], records


# ---- DKIM: dkimpy ----------------------------------------------------------------------------

class _Capture(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines = []

    def emit(self, record):
        self.lines.append(record.getMessage())


def check_dkim(resolver: WorldDns, message: bytes):
    verdicts, records = [], []
    d = dkim.DKIM(message)
    count = sum(1 for name, _ in d.headers if name.lower() == b"dkim-signature")
    for idx in range(count):
        capture = _Capture()
        logger = logging.getLogger(f"dkim-verify-{idx}-{time.monotonic_ns()}")
        logger.addHandler(capture)
        logger.setLevel(logging.DEBUG)
        logger.propagate = False
        fetched = {}

        def dnsfunc(name, timeout=5):
            a = resolver.txt(name.decode() if isinstance(name, bytes) else name)
            fetched["answer"] = a
            if a.status in ("timeout", "servfail") or a.dnssec == "bogus":
                raise dkim.DnsTimeoutError(f"{a.status}/{a.dnssec}")
            strings = txt_strings(a)
            return strings[0] if strings else None

        v = dkim.DKIM(message, logger=logger, minkey=1024)
        try:
            ok = v.verify(idx=idx, dnsfunc=dnsfunc)
        except dkim.DKIMException as e:
            ok = False
            capture.lines.append(f"{type(e).__name__}: {e}")
        text = " | ".join(capture.lines)
        a = fetched.get("answer")
        key_text = txt_strings(a)[0] if a is not None and txt_strings(a) else None
        if ok:
            verdict = ("pass", "none")
        elif "DnsTimeoutError" in text:
            verdict = ("temperror", "other")
        elif "MessageFormatError" in text or "uplicate" in text:
            # dkim.util.parse_tag_value: a duplicated tag invalidates the whole tag-list
            verdict = ("permerror", "syntax")
        elif "x= value is past" in text:
            verdict = ("permerror", "expired")
        elif a is not None and a.status in ("nxdomain", "nodata"):
            verdict = ("permerror", "key_not_found")
        elif key_text is not None and dkim.util.parse_tag_value(key_text).get(b"p") == b"":
            verdict = ("permerror", "key_revoked")
        elif "public key too small" in text:
            verdict = ("permerror", "key_too_small")
        elif "body hash mismatch" in text:
            verdict = ("fail", "body_hash_mismatch")
        elif "unknown signature algorithm" in text:
            verdict = ("permerror", "unsupported_algorithm")
        elif a is not None and a.status == "answer":
            verdict = ("fail", "signature_mismatch")
        else:
            verdict = ("permerror", "other")
        verdicts.append(list(verdict) + [text])
        if a is not None and (a.status == "answer" or a.dnssec == "bogus"):
            records.append(("dkim_key", a.dnssec))
    return verdicts, records


def signature_domains(message: bytes) -> list[tuple[str, str]]:
    """(d=, s=) of every DKIM-Signature, in order ("" where the tag-list is broken)."""
    out = []
    for name, value in dkim.DKIM(message).headers:
        if name.lower() == b"dkim-signature":
            try:
                tags = dkim.util.parse_tag_value(value)
                out.append((tags.get(b"d", b"").decode().lower(),
                            tags.get(b"s", b"").decode()))
            except dkim.util.InvalidTagValueList:
                out.append(("", ""))
    return out


# ---- DMARC: RFC 7489 ------------------------------------------------------------------------

def org_domain(domain: str) -> str:
    # The public suffix list has no rule for .test: its default rule "*" applies.
    return ".".join(domain.lower().rstrip(".").split(".")[-2:])


def dmarc_record(resolver: WorldDns, domain: str):
    """(status, tags, dnssec, record): status found | none | temperror."""
    a = resolver.txt(f"_dmarc.{domain}")
    if a.status in ("timeout", "servfail") or a.dnssec == "bogus":
        return "temperror", None, a.dnssec, None
    records = [s for s in txt_strings(a) if s.startswith(b"v=DMARC1")]
    if len(records) != 1:
        return "none", None, a.dnssec, None
    try:
        tags = dkim.util.parse_tag_value(records[0])
    except dkim.util.InvalidTagValueList:
        return "none", None, a.dnssec, None
    return "found", tags, a.dnssec, records[0]


class OpenDmarc:
    """OpenDMARC's own policy logic (Debian's libopendmarc2, through ctypes): the record, the
    SPF and DKIM outcomes are stored, libopendmarc computes alignment and the policy. No DNS:
    it is handed the record fetched from the test world."""

    PASS, REJECT, QUARANTINE, NONE, ABSENT = 15, 16, 17, 18, 14
    PUBLIC_SUFFIXES = b"/usr/share/publicsuffix/effective_tld_names.dat"

    def __init__(self):
        import ctypes
        self.c = ctypes
        self.lib = ctypes.CDLL("libopendmarc.so.2")
        self.lib.opendmarc_policy_connect_init.restype = ctypes.c_void_p
        # OPENDMARC_LIB_T: int tld_type; u_char tld_source_file[MAXPATHLEN]; int nscount; ...
        # Zeroed and oversized, so its MAXPATHLEN does not matter: nscount stays 0.
        self.init = ctypes.create_string_buffer(16384)
        ctypes.memmove(ctypes.addressof(self.init), (1).to_bytes(4, sys.byteorder),
                       4)  # tld_type = OPENDMARC_TLD_TYPE_MOZILLA
        ctypes.memmove(ctypes.addressof(self.init) + 4, self.PUBLIC_SUFFIXES,
                       len(self.PUBLIC_SUFFIXES))
        status = self.lib.opendmarc_policy_library_init(self.init)
        if status != 0:
            raise RuntimeError(f"opendmarc_policy_library_init: {status}")

    def evaluate(self, m, record, from_domain, record_domain, spf_domain, spf_result, dkim):
        """record was found at _dmarc.record_domain (the From domain, or its organizational
        domain when the From domain has none)."""
        c = self.c
        pctx = c.c_void_p(self.lib.opendmarc_policy_connect_init(
            m["ip"].encode(), 6 if ":" in m["ip"] else 4))
        try:
            self.lib.opendmarc_policy_store_from_domain(pctx, from_domain.encode())
            status = self.lib.opendmarc_policy_store_dmarc(
                pctx, record, from_domain.encode(),
                record_domain.encode() if record_domain != from_domain else None)
            if status != 0:
                return ["none", "absent", "false"]
            spf_outcome = {"pass": 1, "fail": 2, "softfail": 2, "temperror": 3}.get(
                spf_result, 0)
            self.lib.opendmarc_policy_store_spf(pctx, spf_domain.encode(), spf_outcome,
                                                1 if m["mail_from"] else 2, None)
            for domain, selector, result in dkim:
                outcome = {"pass": 1, "fail": 2, "permerror": 2, "temperror": 3}[result]
                self.lib.opendmarc_policy_store_dkim(pctx, domain.encode(),
                                                     selector.encode(), outcome, None)
            enforce = self.lib.opendmarc_get_policy_to_enforce(pctx)
            p, sp, pct = c.c_int(0), c.c_int(0), c.c_int(100)
            self.lib.opendmarc_policy_fetch_p(pctx, c.byref(p))
            self.lib.opendmarc_policy_fetch_sp(pctx, c.byref(sp))
            self.lib.opendmarc_policy_fetch_pct(pctx, c.byref(pct))
            if record_domain != from_domain and sp.value:
                p = sp  # RFC 7489 §6.3: sp= is the policy for subdomains
        finally:
            self.lib.opendmarc_policy_connect_shutdown(pctx)
        policy = {ord("r"): "reject", ord("q"): "quarantine", ord("n"): "none"}.get(
            p.value, "none")
        if enforce == self.ABSENT:
            return ["none", "absent", "false"]
        result = "pass" if enforce == self.PASS else "fail"
        return [result, policy, "true" if pct.value < 100 else "false"]


_OPENDMARC = None


def opendmarc() -> OpenDmarc:
    global _OPENDMARC
    if _OPENDMARC is None:
        _OPENDMARC = OpenDmarc()
    return _OPENDMARC


def check_dmarc(resolver: WorldDns, m: dict, spf_verdict, dkim_verdicts, sigs):
    """(RFC 7489 verdict, the record fetched, libopendmarc's verdict or None when there was
    no record to give it)."""
    from_domain = m["from"].rpartition("@")[2].lower()
    org = org_domain(from_domain)
    status, tags, dnssec, raw = dmarc_record(resolver, from_domain)
    subdomain_policy = False
    if status == "none" and org != from_domain:
        status, tags, dnssec, raw = dmarc_record(resolver, org)
        subdomain_policy = True
    if status == "temperror":
        return ["temperror", "absent", "false"], ("dmarc", dnssec), None
    if status == "none":
        return ["none", "absent", "false"], None, None
    spf_domain = m["mail_from"].rpartition("@")[2] if m["mail_from"] else m["ehlo"]
    by_opendmarc = opendmarc().evaluate(
        m, raw, from_domain, org if subdomain_policy else from_domain, spf_domain,
        spf_verdict[0],
        [(d, sel, v[0]) for v, (d, sel) in zip(dkim_verdicts, sigs)])
    p = tags.get(b"sp" if subdomain_policy and b"sp" in tags else b"p", b"").decode()
    policy = p if p in ("reject", "quarantine", "none") else "none"
    pct = int(tags.get(b"pct", b"100") or 100)
    spf_aligned = spf_verdict[0] == "pass" and org_domain(spf_domain) == org
    dkim_aligned = any(v[0] == "pass" and org_domain(d) == org
                       for v, (d, _) in zip(dkim_verdicts, sigs))
    result = "pass" if spf_aligned or dkim_aligned else "fail"
    return [result, policy, "true" if pct < 100 else "false"], ("dmarc", dnssec), by_opendmarc


def verify(resolver: WorldDns, m: dict, message: bytes) -> dict:
    resolver.log = []
    install_spf_dns(resolver)
    spf_verdict, spf_records = check_spf(resolver, m)
    dkim_verdicts, dkim_records = check_dkim(resolver, message)
    dmarc_verdict, dmarc_rec, by_opendmarc = check_dmarc(resolver, m, spf_verdict,
                                                         dkim_verdicts,
                                                         signature_domains(message))
    dkim_pass = any(v[0] == "pass" for v in dkim_verdicts)
    spf_pass = spf_verdict[0] == "pass"
    method = {(True, True): "dkim_and_spf", (True, False): "dkim_only",
              (False, True): "spf_only", (False, False): "none"}[(dkim_pass, spf_pass)]
    records = spf_records + dkim_records + \
        ([dmarc_rec] if dmarc_rec else [])
    return {"spf": spf_verdict, "dkim": [v[:2] for v in dkim_verdicts],
            "dkim_detail": [v[2] for v in dkim_verdicts], "dmarc": dmarc_verdict,
            "dmarc_opendmarc": by_opendmarc,
            "method": method, "records": [list(r) for r in records]}


def main(argv) -> int:
    with open(argv[1]) as f:
        config = json.load(f)
    message_dir = argv[2]
    wanted = set(argv[3:])
    resolver = WorldDns(config["port"], config["trust_anchor_files_per_zone"])
    every = world.MESSAGES + [world.OUTAGE_MESSAGE, world.RECOVERY_MESSAGE]
    out = {}
    for m in every:
        if (wanted and m["id"] not in wanted) or (not wanted and m in (
                world.OUTAGE_MESSAGE, world.RECOVERY_MESSAGE)):
            continue
        with open(os.path.join(message_dir, m["id"] + ".eml"), "rb") as f:
            out[m["id"]] = verify(resolver, m, f.read())
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

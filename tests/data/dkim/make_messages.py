#!/usr/bin/python3
# make_messages.py — regenerates the signed test messages and key records of tests/data/dkim/
# from the committed private keys in keys/ (run from this directory with /usr/bin/python3;
# needs Debian's python3-cryptography).
#
# It is its own small RFC 6376 signer rather than dkimpy or opendkim-tools because several
# cases need signatures no ordinary signer produces: a duplicated d= or bh= tag, v=2, an
# unknown a=, an x= in the past — each still correctly signed, so that only mailsec's own
# checks (not a broken b=) can make them fail.
#
# Output: messages/*.eml (LF line endings; signed over the CRLF form) and keys.txt
# ("selector<TAB>TXT record text", read by tests/unit/auth/dkim_test.cc's fake resolver).
import base64
import hashlib
import os
import re

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding

DOMAIN = "mailsec.test"
KEYS = {name: serialization.load_pem_private_key(open(f"keys/{name}.pem", "rb").read(), None)
        for name in ("rsa512", "rsa1024", "rsa2048", "ed25519")}


def pubkey_b64(key):
    pub = key.public_key()
    if isinstance(key, ed25519.Ed25519PrivateKey):
        raw = pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    else:
        raw = pub.public_bytes(serialization.Encoding.DER,
                               serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(raw).decode()


def relaxed_header(name, value):
    value = re.sub(r"\r\n", "", value)
    value = re.sub(r"[ \t]+", " ", value).strip(" \t")
    return f"{name.lower().strip()}:{value}"


def canon_body(body, canon):
    lines = body.split("\r\n")
    if lines and lines[-1] == "":
        lines.pop()
    if canon == "relaxed":
        lines = [re.sub(r"[ \t]+", " ", line).rstrip(" \t") for line in lines]
    while lines and lines[-1] == "":
        lines.pop()
    if not lines:
        return "" if canon == "relaxed" else "\r\n"
    return "\r\n".join(lines) + "\r\n"


def parse(message):
    head, body = message.split("\r\n\r\n", 1)
    fields = []
    for line in head.split("\r\n"):
        if line[:1] in (" ", "\t"):
            fields[-1] = fields[-1] + "\r\n" + line
        else:
            fields.append(line)
    return [(f.split(":", 1)[0], f.split(":", 1)[1]) for f in fields], body


def sign(message, key, selector, alg="rsa-sha256", canon="relaxed/relaxed", extra="",
         bh_override=None, tags_before="", version="1", signed=("from", "to", "subject", "date")):
    hcanon, bcanon = canon.split("/")
    fields, body = parse(message)
    digest = hashlib.sha1 if alg == "rsa-sha1" else hashlib.sha256
    bh = base64.b64encode(digest(canon_body(body, bcanon).encode()).digest()).decode()
    if bh_override is not None:
        bh = bh_override
    sig = (f"v={version}; a={alg}; c={canon}; {tags_before}d={DOMAIN}; s={selector};\r\n"
           f"\tt=1700000000; {extra}h={':'.join(signed)};\r\n\tbh={bh};\r\n\tb=")
    data = ""
    used = {}
    for name in signed:
        matches = [f for f in fields if f[0].lower() == name]
        n = used.get(name, 0)
        if n < len(matches):
            f = matches[len(matches) - 1 - n]
            used[name] = n + 1
            data += (relaxed_header(*f) if hcanon == "relaxed" else f"{f[0]}:{f[1]}") + "\r\n"
    data += relaxed_header("DKIM-Signature", " " + sig) if hcanon == "relaxed" else \
        "DKIM-Signature: " + sig
    if isinstance(key, ed25519.Ed25519PrivateKey):
        signature = key.sign(hashlib.sha256(data.encode()).digest())
    else:
        h = {"rsa-sha1": hashes.SHA1(), "rsa-sha512": hashes.SHA512()}.get(alg, hashes.SHA256())
        signature = key.sign(data.encode(), padding.PKCS1v15(), h)
    b = base64.b64encode(signature).decode()
    folded = "\r\n\t ".join(b[i:i + 64] for i in range(0, len(b), 64))
    return "DKIM-Signature: " + sig + folded + "\r\n" + message


BASE = ("From: Alice Example <alice@mailsec.test>\r\n"
        "To: bob@example.org\r\n"
        "Subject: A test message for\r\n the DKIM verifier\r\n"
        "Date: Tue, 01 Dec 2026 12:00:00 +0000\r\n"
        "Message-ID: <dkim-test@mailsec.test>\r\n"
        "\r\n"
        "Hello Bob,\r\n"
        "\r\n"
        "this  body has   runs of spaces \t and trailing blanks   \r\n"
        "so that relaxed canonicalization has work to do.\r\n"
        "\r\n"
        "\r\n")

MESSAGES = {
    "pass_rsa2048": sign(BASE, KEYS["rsa2048"], "k2048"),
    "pass_rsa1024": sign(BASE, KEYS["rsa1024"], "k1024"),
    "pass_simple": sign(BASE, KEYS["rsa2048"], "k2048", canon="simple/simple"),
    "key_too_small_512": sign(BASE, KEYS["rsa512"], "k512"),
    "rsa_sha1": sign(BASE, KEYS["rsa2048"], "k2048", alg="rsa-sha1"),
    "ed25519": sign(BASE, KEYS["ed25519"], "ked", alg="ed25519-sha256"),
    "body_altered": sign(BASE, KEYS["rsa2048"], "k2048").replace("Hello Bob", "Hello Eve"),
    "header_altered": sign(BASE, KEYS["rsa2048"], "k2048").replace("Subject: A test",
                                                                    "Subject: A fake"),
    "key_revoked": sign(BASE, KEYS["rsa2048"], "revoked"),
    "key_missing": sign(BASE, KEYS["rsa2048"], "missing"),
    "key_nodata": sign(BASE, KEYS["rsa2048"], "nodata"),
    "key_garbage": sign(BASE, KEYS["rsa2048"], "garbage"),
    "key_unknown_type": sign(BASE, KEYS["rsa2048"], "unknowntype"),
    "expired": sign(BASE, KEYS["rsa2048"], "k2048", extra="x=1700000600; "),
    # Correctly signed over the duplicated tags: libopendkim alone lets the last value win and
    # passes these; mailsec must call them syntax errors (RFC 6376 §3.2).
    "duplicate_d": sign(BASE, KEYS["rsa2048"], "k2048", tags_before="d=evil.test; "),
    "duplicate_bh": sign(BASE, KEYS["rsa2048"], "k2048",
                         tags_before="bh=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=; "),
    "bad_version": sign(BASE, KEYS["rsa2048"], "k2048", version="2"),
    "unsupported_algorithm": sign(BASE, KEYS["rsa2048"], "k2048", alg="rsa-sha512"),
    "two_signatures": sign(sign(BASE, KEYS["rsa2048"], "missing"), KEYS["rsa2048"], "k2048"),
    "unsigned": BASE,
}
# A signature without b= (made by cutting the signed one).
MESSAGES["missing_b"] = re.sub(r";\r\n\tb=[^\r]*(\r\n\t [^\r]*)*", "",
                               MESSAGES["pass_rsa2048"], count=1)

RECORDS = {
    "k512": "v=DKIM1; k=rsa; p=" + pubkey_b64(KEYS["rsa512"]),
    "k1024": "v=DKIM1; k=rsa; p=" + pubkey_b64(KEYS["rsa1024"]),
    "k2048": "v=DKIM1; k=rsa; p=" + pubkey_b64(KEYS["rsa2048"]),
    "ked": "v=DKIM1; k=ed25519; p=" + pubkey_b64(KEYS["ed25519"]),
    "revoked": "v=DKIM1; k=rsa; p=",
    "garbage": "v=DKIM1; k=rsa; p=!!notbase64!!",
    "unknowntype": "v=DKIM1; k=foo; p=" + pubkey_b64(KEYS["rsa2048"]),
    # "missing" is absent (NXDOMAIN); "nodata" exists without a TXT record (the tests' resolver
    # knows both names).
}

os.makedirs("messages", exist_ok=True)
for name, text in MESSAGES.items():
    with open(f"messages/{name}.eml", "w", newline="") as f:
        f.write(text.replace("\r\n", "\n"))
with open("keys.txt", "w") as f:
    for selector, record in RECORDS.items():
        f.write(f"{selector}\t{record}\n")

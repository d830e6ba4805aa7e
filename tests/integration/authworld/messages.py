#!/usr/bin/python3
"""Builds the test messages of world.MESSAGES, signed with Debian's python3-dkim (dkim.sign;
dkim.DKIM with one tag tweak for the expired and duplicated-tag cases), then altered after
signing where the table says so.

Run under Debian's /usr/bin/python3 (the pyenv interpreter cannot import python3-dkim):
    /usr/bin/python3 authworld/messages.py WORLD_CONFIG_JSON OUT_DIR [ID ...]
WORLD_CONFIG_JSON is what `python3 -m harness.dns --print-config` prints (its "keys" are
read). Writes OUT_DIR/ID.eml (CRLF line endings, ready for swaks --data) and prints the
paths as JSON."""
import json
import os
import sys
import time

import dkim

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from authworld import world  # noqa: E402

SIGNED_HEADERS = [b"from", b"to", b"subject", b"date", b"message-id"]


class TweakedDKIM(dkim.DKIM):
    """dkim.DKIM whose tag list is changed before it is hashed and signed, so the signature
    is cryptographically good and only the tweak makes it fail."""

    def __init__(self, message, tweak):
        super().__init__(message)
        self.tweak = tweak

    def gen_header(self, fields, include_headers, canon_policy, header_name, pk,
                   standardize=False):
        fields = list(fields)
        if self.tweak == "expired":
            now = int(time.time())
            fields = [(k, str(now - 2 * 86400).encode()) if k == b"t" else (k, v)
                      for k, v in fields]
            at = [k for k, _ in fields].index(b"h")
            fields.insert(at, (b"x", str(now - 86400).encode()))
        elif self.tweak == "duptag":
            selector = dict(fields)[b"s"]
            at = [k for k, _ in fields].index(b"h")
            fields.insert(at, (b"s", selector))
        return super().gen_header(fields, include_headers, canon_policy, header_name, pk,
                                  standardize)


def base_message(m: dict) -> bytes:
    lines = [
        f"From: Test Sender <{m['from']}>",
        "To: user@mailsec.test",
        f"Subject: mailsec auth test {m['id']}",
        "Date: Tue, 01 Dec 2026 12:00:00 +0000",
        f"Message-ID: <{m['id']}.{int(time.time() * 1000)}@mailsec.test>",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=us-ascii",
        "",
        f"This is the {m['id']} test message of mailsec's SPF/DKIM/DMARC test world.",
        "It has a few lines so that canonicalization has something to do.   ",
        "",
        "-- ",
        "mailsec",
        "",
    ]
    return "\r\n".join(lines).encode()


def sign(message: bytes, keys: dict, domain: str, selector: str, key: str, algorithm: str,
         tweak) -> bytes:
    with open(keys[key]["private"], "rb") as f:
        private = f.read().strip()
    canonicalize = (b"relaxed", b"relaxed")
    if tweak in ("expired", "duptag"):
        d = TweakedDKIM(message, tweak)
        header = d.sign(selector.encode(), domain.encode(), private,
                        signature_algorithm=algorithm.encode(), canonicalize=canonicalize,
                        include_headers=SIGNED_HEADERS)
    else:
        header = dkim.sign(message, selector.encode(), domain.encode(), private,
                           signature_algorithm=algorithm.encode(), canonicalize=canonicalize,
                           include_headers=SIGNED_HEADERS)
    return header + message


def build(m: dict, keys: dict) -> bytes:
    message = base_message(m)
    tweaks = []
    # Sign in reverse so the first signature in the table ends up first (topmost).
    for domain, selector, key, algorithm, tweak in reversed(m["sigs"]):
        message = sign(message, keys, domain, selector, key, algorithm, tweak)
        tweaks.append(tweak)
    if "body" in tweaks:
        message = message.replace(b"so that canonicalization", b"so that CANONICALIZATION")
    if "header" in tweaks:
        message = message.replace(b"Subject: mailsec auth test", b"Subject: mailsec AUTH test")
    return message


def main(argv) -> int:
    with open(argv[1]) as f:
        config = json.load(f)
    out_dir = argv[2]
    wanted = set(argv[3:])
    os.makedirs(out_dir, exist_ok=True)
    every = world.MESSAGES + [world.OUTAGE_MESSAGE, world.RECOVERY_MESSAGE]
    paths = {}
    for m in every:
        if wanted and m["id"] not in wanted:
            continue
        path = os.path.join(out_dir, m["id"] + ".eml")
        with open(path, "wb") as f:
            f.write(build(m, config["keys"]))
        paths[m["id"]] = path
    print(json.dumps(paths))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

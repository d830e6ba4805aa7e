"""The known matrix of SMTP sessions that every MTA's milter test runs (cleartext, STARTTLS with
TLS 1.2 and 1.3 suites, a verified client certificate, masked STARTTLS), and the exact metric
deltas it must produce. One definition for Postfix and Sendmail: the numbers mean the same on
both MTAs, so the expectation is the same."""
from harness.metrics import labels
from harness.smtp import raw_session, swaks

M = "milter"

SESSIONS = 10  # SMTP sessions the matrix opens
MESSAGES = 9  # messages it sends (one per swaks session)
MASKED_SESSION = [b"EHLO masked.example", b"XXXXXXXX", b"STAR", b"QUIT"]


def run(mx: int, sub: int, pki) -> list[bytes]:
    """Runs the matrix against an MTA listening on `mx` and `sub`; returns the replies of the
    masked-STARTTLS session (greeting first: replies[2] answers XXXXXXXX)."""
    swaks(mx)
    swaks(mx)
    swaks(sub)
    swaks(mx, tls=True, protocol="tlsv1_2", cipher="ECDHE-RSA-AES128-GCM-SHA256")
    swaks(mx, tls=True, protocol="tlsv1_2", cipher="AES256-GCM-SHA384")
    swaks(mx, tls=True, protocol="tlsv1_2", cipher="ECDHE-RSA-AES256-SHA384")
    swaks(mx, tls13_suite="TLS_AES_256_GCM_SHA384")
    swaks(mx, tls13_suite="TLS_AES_256_GCM_SHA384")
    swaks(sub, tls13_suite="TLS_CHACHA20_POLY1305_SHA256", cert=pki.client_cert,
          key=pki.client_key)
    return raw_session(mx, MASKED_SESSION)


def _tls(version, kex, cipher, mac, pfs, klass):
    return labels(source=M, version=version, kex=kex, cipher=cipher, mac=mac, pfs=pfs,
                  **{"class": klass})


# {family: {labels: delta}}: every series that changes, by exactly this much; no other changes.
EXPECTED = {
    "mailsec_sessions_total": {
        labels(source=M, port_class="mx", tls="false"): 3,
        labels(source=M, port_class="mx", tls="true"): 5,
        labels(source=M, port_class="submission", tls="false"): 1,
        labels(source=M, port_class="submission", tls="true"): 1,
    },
    "mailsec_messages_total": {
        labels(source=M, port_class="mx", tls="false"): 2,
        labels(source=M, port_class="mx", tls="true"): 5,
        labels(source=M, port_class="submission", tls="false"): 1,
        labels(source=M, port_class="submission", tls="true"): 1,
    },
    "mailsec_tls_sessions_total": {
        _tls("TLSv1.2", "ECDHE", "AES-128-GCM", "AEAD", "true", "recommended"): 1,
        _tls("TLSv1.2", "RSA", "AES-256-GCM", "AEAD", "false", "secure"): 1,
        _tls("TLSv1.2", "ECDHE", "AES-256-CBC", "SHA384", "true", "secure"): 1,
        _tls("TLSv1.3", "any", "AES-256-GCM", "AEAD", "true", "recommended"): 2,
        _tls("TLSv1.3", "any", "CHACHA20-POLY1305", "AEAD", "true", "recommended"): 1,
    },
    "mailsec_client_certificates_total": {
        labels(source=M, verified="true"): 1,
    },
    "mailsec_unknown_commands_total": {
        labels(source=M, signature="starttls_masked"): 1,
        labels(source=M, signature="starttls_truncated"): 1,
    },
    "mailsec_input_errors_total": {},
    "mailsec_errors_total": {},
}

# What only the milter counts (it sees the message's headers): the Received chain of each of
# the nine messages is the live hop alone (swaks writes no Received header). It runs over
# loopback, so no path is judged (docs/received.md).
_HOP_BUCKETS = ("1", "2", "3", "4", "5", "6", "7", "8", "10", "12", "15", "20", "30", "50", "+Inf")
MILTER_EXPECTED = {
    "mailsec_received_hops_total": {
        labels(position="inbound", protocol="ESMTP", tls="false"): 3,
        labels(position="inbound", protocol="ESMTPS", tls="true"): 6,
    },
    "mailsec_received_hop_tls_versions_total": {
        labels(position="inbound", version="TLSv1.2"): 3,
        labels(position="inbound", version="TLSv1.3"): 3,
    },
    "mailsec_message_paths_total": {labels(path="unknown"): 9},
    "mailsec_message_first_cleartext_hops_total": {},
    "mailsec_message_origin_submissions_total": {
        labels(authenticated="false", tls="false"): 3,
        labels(authenticated="false", tls="true"): 6,
    },
    "mailsec_received_headers_dropped_total": {},
    "mailsec_received_headers_unparsable_total": {},
    "mailsec_received_hops_per_message_bucket": {labels(le=le): 9 for le in _HOP_BUCKETS},
    "mailsec_received_hops_per_message_count": {labels(): 9},
    "mailsec_received_hops_per_message_sum": {labels(): 9},
    # The masked session's XXXXXXXX and STAR: downgrade signals the MTA lets the milter see.
    "mailsec_downgrade_suspected_total": {
        labels(signal="starttls_masked", source=M): 1,
        labels(signal="starttls_truncated", source=M): 1,
    },
}


class MatrixTests:
    """Mixed into a MilterCase: runs the matrix against its MTA and asserts EXPECTED."""

    def test_exact_counts_for_known_matrix(self):
        before = self.scrape()
        delivered_before = self.mta.delivered()

        replies = run(self.mx_port, self.sub_port, self.pki)
        self.assertTrue(replies[2].startswith(self.mta.UNKNOWN_COMMAND_REPLY), replies)

        after = self.wait_sessions(before, SESSIONS)
        self.mta.wait_delivered(delivered_before + MESSAGES)
        for family, want in {**EXPECTED, **MILTER_EXPECTED}.items():
            self.assert_deltas(before, after, family, want)
        self.assertEqual(self.mta.delivered(), delivered_before + MESSAGES)

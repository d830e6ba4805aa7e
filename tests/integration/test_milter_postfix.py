"""mailsec-milter on a real Postfix: a known matrix of SMTP sessions (cleartext, STARTTLS
with TLS 1.2 and 1.3 suites, a verified client certificate, masked STARTTLS) and the exact
counts /metrics must show for it. The matrix and its counts live in matrix.py, shared with
test_milter_sendmail.py: they are the same on every MTA."""
import unittest

from fixtures import PostfixMilterCase
from matrix import MatrixTests


class TlsMatrix(MatrixTests, PostfixMilterCase):
    pass


if __name__ == "__main__":
    unittest.main()

"""Test harness for mailsec's integration tests: real Postfix, real SMTP clients, real
/metrics scrapes. Python standard library only."""

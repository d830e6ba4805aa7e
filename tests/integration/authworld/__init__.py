"""The SPF/DKIM/DMARC test world (see README.md): domains, records, messages, verdicts."""

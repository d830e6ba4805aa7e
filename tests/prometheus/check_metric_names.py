#!/usr/bin/env python3
"""Every mailsec_* metric the packaged rules and alerts use is in the metric contract
(docs/metrics.md, generated from metrics/catalogue.cc): a renamed or missing family fails here,
not silently in production. Usage: check_metric_names.py RULES... METRICS_MD"""
import re
import sys


def main() -> int:
    *rules, doc = sys.argv[1:]
    with open(doc) as f:
        declared = set(re.findall(r"^\| `(mailsec_[a-z0-9_]+)`", f.read(), re.M))
    missing = []
    for path in rules:
        with open(path) as f:
            text = f.read()
        # Metric names, not recording-rule names (mailsec:...:...) nor runbook anchors.
        for name in sorted(set(re.findall(r"(?<![:#a-z_])(mailsec_[a-z0-9_]+)", text))):
            if name not in declared:
                missing.append(f"{path}: {name} is not in {doc}")
    for line in missing:
        print(line)
    if not declared:
        print(f"{doc}: no metric table found")
        return 1
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())

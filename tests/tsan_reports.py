#!/usr/bin/env python3
"""Reads ThreadSanitizer report files (TSAN_OPTIONS=log_path=DIR/report) and fails when any
report has a frame of mailsec's own code in one of its access stacks.

Reports whose access stacks are entirely in libraries we do not build (libmilter's racy
shutdown of its worker pool, whose static functions have no names a suppression could match:
docs/performance.md) are listed as outside our code and do not fail. Named ones are
suppressed in tests/tsan.supp instead.

usage: tests/tsan_reports.py DIR     exit status 1 if a report involves our code
"""
import glob
import os
import re
import sys

OURS = re.compile(r"\((mailsec-[a-z]+|[a-z_]+_test)\+0x|/mailsec/|" +
                  re.escape(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))) + "/")
END_OF_ACCESSES = re.compile(r"^  (Location is|Mutex |Thread T|As if synchronized|SUMMARY)")


def ours(report: str) -> bool:
    for line in report.splitlines():
        if END_OF_ACCESSES.match(line):
            break
        if re.match(r"^\s+#\d+ ", line) and OURS.search(line):
            return True
    return False


def main() -> int:
    failed = outside = 0
    for path in sorted(glob.glob(os.path.join(sys.argv[1], "*"))):
        with open(path, errors="replace") as f:
            for report in f.read().split("==================\n"):
                if "WARNING: ThreadSanitizer" not in report:
                    continue
                if ours(report):
                    failed += 1
                    print(f"{path}:\n{report}")
                else:
                    outside += 1
    print(f"ThreadSanitizer: {failed} report(s) involving mailsec's code, "
          f"{outside} entirely inside other libraries")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Reads the report files sanitized daemons wrote during integration tests (TSAN_OPTIONS,
ASAN_OPTIONS and UBSAN_OPTIONS with log_path=DIR/report) and fails on any that matters.
The integration harness does not look at a daemon's exit status (a milter that aborts on a
sanitizer error fails open: the mail still goes through), so the reports are the evidence.

- ThreadSanitizer: fails when a report has a frame of mailsec's own code in one of its access
  stacks. Reports whose access stacks are entirely in libraries we do not build (libmilter's
  racy shutdown of its worker pool, whose static functions have no names a suppression could
  match: docs/performance.md) are listed as outside our code and do not fail. Named ones are
  suppressed in tests/tsan.supp instead.
- AddressSanitizer: every error report fails (a memory error in a library inside our
  process is ours to fix or report). LeakSanitizer is off for daemons (libmilter never joins
  its threads); the unit tests run with it.
- UndefinedBehaviorSanitizer: every "runtime error" fails (only our code is instrumented).

usage: tests/sanitizer_reports.py DIR     exit status 1 if any report fails
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
    failed = outside = checked = 0
    for path in sorted(glob.glob(os.path.join(sys.argv[1], "*"))):
        checked += 1
        with open(path, errors="replace") as f:
            text = f.read()
        for report in text.split("==================\n"):
            if "WARNING: ThreadSanitizer" not in report:
                continue
            if ours(report):
                failed += 1
                print(f"{path}:\n{report}")
            else:
                outside += 1
        for marker in ("ERROR: AddressSanitizer", "runtime error:"):
            if marker in text:
                failed += 1
                print(f"{path}:\n{text}")
                break
    print(f"sanitizers: {checked} report file(s); {failed} failing report(s); {outside} "
          "ThreadSanitizer report(s) entirely inside other libraries")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

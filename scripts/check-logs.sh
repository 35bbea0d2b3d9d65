#!/usr/bin/env bash
# Checks the service's logs from a test run (scripts/test.sh keeps them in target/test-logs)
# for personal data in clear: anything shaped like a mainland mobile or a resident ID number.
# Prints where, never what. Fails when a log holds one, or when there are no logs to check.
set -euo pipefail
dir="${1:-target/test-logs}"
shopt -s nullglob
files=("$dir"/*)
if [ ${#files[@]} -eq 0 ]; then echo "no logs in $dir: nothing was checked" >&2; exit 1; fi
lines=$(cat "${files[@]}" | wc -l)
if [ "$lines" -lt 100 ]; then echo "only $lines log lines in $dir: the capture is not working" >&2; exit 1; fi

# A mobile (optionally +86) or an 18-character ID, not inside a longer run of hex or digits
# (UUIDs, hashes, timestamps).
phone='(?<![0-9A-Fa-f])(\+?86)?1[3-9][0-9]{9}(?![0-9A-Fa-f])'
national_id='(?<![0-9A-Fa-f])[1-9][0-9]{16}[0-9Xx](?![0-9A-Fa-f])'
found=$(grep -cP "$phone|$national_id" "${files[@]}" | awk -F: '$2 > 0' || true)
if [ -n "$found" ]; then
  echo "personal data in clear in the logs (file:lines):" >&2
  echo "$found" >&2
  exit 1
fi
echo "logs: $lines lines in ${#files[@]} files, no phone or ID number in clear"

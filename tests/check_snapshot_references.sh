#!/usr/bin/env bash
# After a test run with INSTA_SNAPSHOT_REFERENCES_FILE=<file>: fails when a committed snapshot
# was not asserted by any test (orphaned), or when a pending `.snap.new` is committed. Silent
# on success, so the test runner's summary stays the last line of CI.
set -euo pipefail
references=${1:?usage: check_snapshot_references.sh <references file>}
cd "$(dirname "$0")/.."
[ -f "$references" ] || { echo "no snapshot references recorded in $references" >&2; exit 1; }
unreferenced=$(comm -23 \
    <(for f in tests/src/snapshots/*.snap; do realpath "$f"; done | sort) \
    <(xargs -r -n1 realpath <"$references" | sort -u))
pending=$(git ls-files '*.snap.new' '*.pending-snap')
if [ -n "$unreferenced$pending" ]; then
    echo "snapshots not asserted by any test (delete or review them): ${unreferenced:-none}" >&2
    echo "pending snapshots committed: ${pending:-none}" >&2
    exit 1
fi

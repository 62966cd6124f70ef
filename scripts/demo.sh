#!/usr/bin/env bash
# The demo: import the example log into a fresh data folder and show today's queue.
set -euo pipefail
bin="$1"
review="$bin/review"
echo "== data folder: $SRS_HOME (SRS_HOME)"
rm -rf "$SRS_HOME"
"$review" config set timezone "$("$bin/python" -c 'from srs.clock import system_zone_name; print(system_zone_name())')" >/dev/null
echo "== review import examples/study-log.md"
"$review" import examples/study-log.md
echo
echo "== review cards"
"$review" cards
echo
echo "== review show 2"
"$review" show 2
echo
echo "== review today"
"$review" today

#!/bin/sh
# Runs the tests as if today were another day: each moment below shifts the clock of pytest, the stand-in and every
# `source-claude` subprocess alike (libfaketime, `apt-get install faketime`), and the clock keeps running, so a
# moment just before midnight UTC crosses it mid-run. Not part of `make test` (each moment is a whole run).
#
#   integration_tests/calendar_matrix.sh                      # the whole suite at every moment below
#   integration_tests/calendar_matrix.sh integration_tests/test_fake_admin_api.py
#   MOMENTS="2028-02-29T00:00:30" integration_tests/calendar_matrix.sh -k cost
#   TZ=Asia/Tokyo integration_tests/calendar_matrix.sh     # where the local date is not the UTC one
# Each moment's output is in .calendar/<moment>.log.
set -u
cd "$(dirname "$0")/.."
command -v faketime >/dev/null || { echo "needs libfaketime: apt-get install faketime" >&2; exit 2; }
# Year and month ends, a leap day, mid-year; just after midnight UTC, and just before it (the run crosses it).
MOMENTS=${MOMENTS:-"2027-01-01T00:00:30 2027-02-28T12:00:00 2027-03-01T00:00:30 2027-03-31T23:58:30
2027-06-30T12:00:00 2027-12-31T23:58:30 2028-02-29T00:00:30 2028-02-29T23:58:30"}
mkdir -p .calendar
status=0
for moment in $MOMENTS; do
    # An offset, not a start time: every process sees the same shifted clock, however late it starts.
    offset=$(( $(date -ud "$(echo "$moment" | tr T ' ')" +%s) - $(date +%s) ))
    case $offset in -*) ;; *) offset="+$offset" ;; esac  # libfaketime reads an unsigned number as a date
    printf '%s  ' "$moment"
    faketime -f "${offset}s" .venv/bin/python -m pytest -q -p no:cacheprovider -m "not image_tests" -n 2 \
        --dist loadfile "$@" > ".calendar/$moment.log" 2>&1 || status=1
    tail -n 1 ".calendar/$moment.log"
done
exit $status

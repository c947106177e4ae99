#!/bin/sh
# Usage: sh tools/with-progress.sh "<what is happening, and about how long it takes>" command [argument...]
# Says what is happening, then prints the elapsed time every PROGRESS_EVERY seconds (10) while the command runs, so
# a slow first run never looks stuck. The command's output and exit status pass through unchanged.
set -u
echo "$1" >&2
shift
"$@" &
pid=$!
# A background command of a non-interactive shell ignores Ctrl-C: pass it on, and the other stop signals too.
trap 'kill "$pid" 2>/dev/null; wait "$pid"; exit 130' INT TERM HUP
every=${PROGRESS_EVERY:-10}
elapsed=0
while kill -0 "$pid" 2>/dev/null; do
  sleep 1
  elapsed=$((elapsed + 1))
  if [ $((elapsed % every)) -eq 0 ] && kill -0 "$pid" 2>/dev/null; then
    echo "  ... ${elapsed} s" >&2
  fi
done
wait "$pid"

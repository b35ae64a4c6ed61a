#!/bin/sh
# tests/cache/concurrent.sh CACHE_FILL EMU_CACHE - several processes fill one
# cache at once (two modules, six writers, readers in between); afterwards
# every entry of every writer must be present and valid.
set -u
FILL=$1
EC=$2
D=$(mktemp -d /tmp/emu-cache-conc.XXXXXX)
trap 'rm -rf "$D"' EXIT
pids=""
for s in 1 2 3 4 5 6; do
  m=/usr/bin/shared; [ $s -gt 4 ] && m=/lib/other.so
  "$FILL" --dir "$D" --module $m --seed $s --count 400 fill 2>/dev/null &
  pids="$pids $!"
  "$FILL" --dir "$D" --module /usr/bin/shared --seed 1 --count 1 --ro check >/dev/null 2>&1 &
done
st=0
for p in $pids; do wait $p || st=1; done
wait
[ $st = 0 ] || { echo "FAIL: a writer failed"; exit 1; }
for s in 1 2 3 4 5 6; do
  m=/usr/bin/shared; [ $s -gt 4 ] && m=/lib/other.so
  "$FILL" --dir "$D" --module $m --seed $s --count 400 --ro check || { echo "FAIL: seed $s"; exit 1; }
done
"$EC" --cache-dir "$D" verify || { echo "FAIL: verify"; exit 1; }
n=$("$EC" --cache-dir "$D" --json stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["entries"])')
[ "$n" = 2400 ] || { echo "FAIL: $n entries, expected 2400"; exit 1; }
ls "$D/packs" | grep -q tmp && { echo "FAIL: temp files left behind"; exit 1; }

# Writers racing eviction (prune to nothing, repeatedly): entries may be
# evicted, but no pack may ever be corrupt and no temp file may remain.
pids=""
for s in 7 8 9; do
  "$FILL" --dir "$D" --module /usr/bin/shared --seed $s --count 300 fill 2>/dev/null &
  pids="$pids $!"
done
for i in 1 2 3 4 5 6 7 8; do "$EC" --cache-dir "$D" prune --max-size 1 >/dev/null || st=1; done
for p in $pids; do wait $p || st=1; done
[ $st = 0 ] || { echo "FAIL: a writer or prune failed while racing"; exit 1; }
"$EC" --cache-dir "$D" verify || { echo "FAIL: verify after racing eviction"; exit 1; }
ls "$D/packs" | grep -q tmp && { echo "FAIL: temp files left after racing eviction"; exit 1; }
echo "cache concurrent: all ok"

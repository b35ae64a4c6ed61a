#!/bin/sh
# tests/cache/tool.sh EMU_CACHE CACHE_FILL - the emu-cache tool end to end:
# stats/ls/show/verify/prune/clear, --json output, exit codes (0 ok,
# 1 corruption or error, 2 usage), and verify naming a corrupted pack.
set -u
EC=$1
FILL=$2
D=$(mktemp -d /tmp/emu-cache-tool.XXXXXX)
trap 'rm -rf "$D"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ec() { "$EC" --cache-dir "$D" "$@"; }
expect_rc() { want=$1; shift; "$@" >"$D/out" 2>"$D/err"; rc=$?
  [ "$rc" = "$want" ] || fail "'$*' exited $rc, expected $want: $(head -c 300 "$D/err")"; }
json() { python3 -c "import json,sys; d=json.load(open('$D/out')); print($1)"; }

# An empty (missing) cache is fine.
expect_rc 0 ec stats
expect_rc 0 ec verify
expect_rc 0 ec --json ls
[ "$(json 'len(d)')" = 0 ] || fail "empty ls"

"$FILL" --dir "$D" --module /usr/bin/prog-a --seed 1 --count 200 fill 2>/dev/null || fail "fill a"
"$FILL" --dir "$D" --module /lib/libb.so --seed 2 --count 150 fill 2>/dev/null || fail "fill b"
"$FILL" --dir "$D" --module /usr/bin/prog-a --seed 1 --count 200 check >/dev/null 2>&1 ||
  fail "check a"

expect_rc 0 ec --json stats
[ "$(json 'd["entries"]')" = 350 ] || fail "stats entries: $(cat "$D/out")"
[ "$(json 'len(d["binaries"])')" = 2 ] || fail "stats binaries"
[ "$(json '[b for b in d["binaries"] if b["binary"]=="/usr/bin/prog-a"][0]["runs"][-1]["hits"]')" = 200 ] ||
  fail "stats: last run of prog-a should have 200 hits: $(cat "$D/out")"
expect_rc 0 ec stats
grep -q '/usr/bin/prog-a .* 100.0%' "$D/out" || fail "human stats: $(cat "$D/out")"

expect_rc 0 ec ls --json
[ "$(json 'sorted(p["entries"] for p in d)')" = "[150, 200]" ] || fail "ls entries"
expect_rc 0 ec ls --binary /usr/bin/prog-a --json
[ "$(json 'len(d)')" = 200 ] || fail "ls --binary"
expect_rc 0 ec ls --binary libb.so
[ "$(wc -l <"$D/out")" = 151 ] || fail "ls --binary basename (table of 150 + header)"
expect_rc 1 ec ls --binary /nonexistent

# show: by full key and by pack prefix + offset
expect_rc 0 ec ls --binary prog-a --json
KEY=$(json 'd[5]["key"]')
SIZE=$(json 'd[5]["size"]')
expect_rc 0 ec show "$KEY" --json
[ "$(json 'd[0]["size"]')" = "$SIZE" ] || fail "show size"
[ "$(json 'd[0]["ok"]')" = True ] || fail "show ok"
PACK=${KEY%%:*}
OFF=$(echo "$KEY" | cut -d: -f2)
expect_rc 0 ec show "$(echo "$PACK" | cut -c1-8):$OFF"
grep -q 'checksum: *ok' "$D/out" || fail "show human output"
expect_rc 1 ec show "$PACK:ffffffff"
expect_rc 2 ec show zz
expect_rc 2 ec show

# A host object payload is disassembled (when a compiler is around).
if command -v cc >/dev/null 2>&1; then
  mkdir "$D/objs"
  printf 'int f(int x) { return x * 3 + 1; }\n' >"$D/f.c"
  if cc -O2 -c "$D/f.c" -o "$D/objs/f.o" 2>/dev/null; then
    "$FILL" --dir "$D" --module /usr/bin/obj --seed 3 --count 1 --objdir "$D/objs" fill 2>/dev/null
    expect_rc 0 ec ls --binary /usr/bin/obj --json
    expect_rc 0 ec show "$(json 'd[0]["key"]')"
    grep -q 'host object (ELF' "$D/out" || fail "show: object not recognised"
    grep -q 'section .text' "$D/out" || fail "show: no .text: $(cat "$D/out")"
    grep -q '^<f>:' "$D/out" || fail "show: function f not labelled: $(cat "$D/out")"
  fi
fi

# Guest code comes from the guest binary through its program headers.
G=/usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1
[ -r "$G" ] || G=/usr/bin/true
"$FILL" --dir "$D" --module "$G" --seed 0 --count 101 --guest-len 32 fill 2>/dev/null
expect_rc 0 ec ls --binary "$G" --json
expect_rc 0 ec show "$(json 'd[100]["key"]')"
grep -q "guest code:   32 bytes of $G" "$D/out" || fail "show: no guest code: $(cat "$D/out")"
grep -q '^0x0000000000001900:' "$D/out" || fail "show: guest code not disassembled at 0x1900"
expect_rc 0 ec show "$(echo "$KEY" | cut -d: -f1-2)"
grep -q 'guest code:   length not recorded' "$D/out" || fail "show without a guest length"

# verify finds a flipped byte and names the pack; --json lists the problem
expect_rc 0 ec verify
F=$D/packs/$PACK.pack
SZ=$(stat -c %s "$F")
printf '\377' | dd of="$F" bs=1 seek=$((SZ - 100)) conv=notrunc 2>/dev/null
expect_rc 1 ec verify
grep -q "$PACK" "$D/out" || fail "verify does not name the corrupt pack: $(cat "$D/out")"
grep -q 'CORRUPTION FOUND' "$D/out" || fail "verify summary"
expect_rc 1 ec verify --json
[ "$(json 'd["corrupt"] > 0 and len(d["problems"]) > 0')" = True ] || fail "verify --json"
# --deep: the checksum pass still finds the corruption; cache-fill's entries
# are no template blocks, so none is translated again
expect_rc 1 ec verify --deep
grep -q 'CORRUPTION FOUND' "$D/out" || fail "verify --deep summary: $(cat "$D/out")"
grep -q '^deep: 0 template blocks translated again' "$D/out" || fail "verify --deep: $(cat "$D/out")"
# a truncated pack is reported too, and shown as BAD by ls
head -c 1000 "$F" >"$F.t" && mv "$F.t" "$F"
expect_rc 1 ec verify
grep -q 'truncated' "$D/out" || fail "verify truncated: $(cat "$D/out")"
expect_rc 0 ec ls
grep -q 'BAD' "$D/out" || fail "ls should flag the bad pack"
# the runtime side treats it as a miss, never a crash
"$FILL" --dir "$D" --module /usr/bin/prog-a --seed 1 --count 10 --ro check >/dev/null 2>&1
[ $? = 1 ] || fail "check on a truncated pack should miss (exit 1)"

# usage errors
expect_rc 2 ec
expect_rc 2 ec bogus
expect_rc 2 ec prune
expect_rc 2 ec prune --max-size 12Q
expect_rc 2 ec stats --deep
expect_rc 2 ec --frobnicate stats

# prune and clear
expect_rc 0 ec prune --max-size 100M --json
[ "$(json 'd["removed_packs"]')" = 0 ] || fail "prune 100M removed packs"
expect_rc 0 ec prune --max-size 1
grep -q 'removed 4 packs' "$D/out" || fail "prune to 1 byte: $(cat "$D/out")"
"$FILL" --dir "$D" --module /usr/bin/prog-a --seed 1 --count 20 fill 2>/dev/null
expect_rc 0 ec clear --json
[ "$(json 'd["removed_packs"]')" = 1 ] || fail "clear"
expect_rc 0 ec --json stats
[ "$(json 'd["packs"]')" = 0 ] || fail "stats after clear"

[ $fails = 0 ] && echo "cache tool: all ok" && exit 0
exit 1

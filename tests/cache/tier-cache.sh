#!/bin/sh
# tests/cache/tier-cache.sh EMU_USER EMU_CACHE - the code cache of
# --tier=auto end to end, on a guest with hot loops:
#  1. a first run with a fresh cache stores regions;
#  2. a second run loads them: hits, zero LLVM compiles, and LLVM cannot
#     even be loaded (EMU_LLVM_FORBID: any attempt would say so on stderr
#     and leave the code in the template tier), yet most guest
#     instructions run in LLVM code;
#  3. a corrupted pack: a -d cache message, clean retranslation;
#  4. two processes filling one fresh cache at once, then a warm run;
#  5. a patch to a loaded region's member (not a block itself) drops it;
#  6. a region the probe dropped is remembered (a marker), not compiled again;
# and every run prints what --tier=template (and qemu-aarch64, if present)
# print.  Exit 77 (skipped) without the AArch64 cross compiler.  KEEP=1 keeps
# the work directory (the guest, every run's output and --stats) for a look.
set -u
EMU=$1
EC=$2
SRC=$(dirname "$0")/guest/hotloop.c
command -v aarch64-linux-gnu-gcc >/dev/null || { echo "no aarch64-linux-gnu-gcc: skipped"; exit 77; }
D=$(mktemp -d /tmp/emu-tier-cache.XXXXXX)
[ -n "${KEEP:-}" ] || trap 'rm -rf "$D"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
aarch64-linux-gnu-gcc -O2 -static -o "$D/hotloop" "$SRC" || { echo "FAIL: cannot build the guest"; exit 1; }
G=$D/hotloop
# Writers compile and store what is still queued at exit (the default, 0,
# leaves it to the next run), so that a loaded machine changes nothing.
export EMU_CACHE_EXIT_MS=30000

"$EMU" --tier=template "$G" >"$D/want" || fail "template run"
if command -v qemu-aarch64 >/dev/null; then
  qemu-aarch64 "$G" >"$D/qemu" || fail "qemu run"
  cmp -s "$D/want" "$D/qemu" || fail "template and qemu differ: $(cat "$D/want") / $(cat "$D/qemu")"
fi
# field N of the "cache regions" --stats line: 1 lookups, 3 loaded, 8 rejected, 10 stored
regions() { sed -n 's/^  cache regions *//p' "$1" | awk -v f="$2" '{print $f}'; }
compiled() { sed -n 's/^  llvm regions compiled *\([0-9]*\).*/\1/p' "$1"; }
llvm_share() { sed -n 's/.*llvm \([0-9.]*\)%.*/\1/p' "$1" | cut -d. -f1; }
run() { # run NAME CACHE_DIR [emu options...]
  name=$1; dir=$2; shift 2
  "$EMU" --tier=auto --stats --cache-dir "$dir" "$@" "$G" >"$D/$name.out" 2>"$D/$name.err"
  rc=$?
  [ "$rc" = 0 ] || fail "$name: exit $rc: $(tail -3 "$D/$name.err")"
  cmp -s "$D/want" "$D/$name.out" || fail "$name: output $(cat "$D/$name.out"), want $(cat "$D/want")"
}

# 1. cold (twice: a block that got hot only late is stored by then too)
run cold "$D/c1"
run cold2 "$D/c1"
[ "$(regions "$D/cold.err" 10)" -gt 0 ] 2>/dev/null || fail "cold run stored nothing: $(grep cache "$D/cold.err")"
[ "$(compiled "$D/cold.err")" -gt 0 ] 2>/dev/null || fail "cold run compiled nothing"
ls "$D"/c1/packs/*.pack >/dev/null 2>&1 || fail "no pack written"

# 2. warm, with no LLVM to be had
EMU_LLVM_FORBID=1 run warm "$D/c1"
[ "$(regions "$D/warm.err" 3)" -gt 0 ] 2>/dev/null || fail "warm run loaded nothing: $(grep cache "$D/warm.err")"
[ "$(compiled "$D/warm.err")" = 0 ] || fail "warm run compiled $(compiled "$D/warm.err") regions"
grep -q "EMU_LLVM_FORBID" "$D/warm.err" && fail "warm run tried to load LLVM: $(grep 'FORBID' "$D/warm.err")"
[ "$(llvm_share "$D/warm.err")" -ge 50 ] 2>/dev/null ||
  fail "warm run: only $(llvm_share "$D/warm.err")% of guest insns in LLVM code"
"$EC" --cache-dir "$D/c1" verify >/dev/null 2>&1 || fail "emu-cache verify after two runs"

# 3. corruption: flip bytes all through the second half of every pack (the
#    packs hold template blocks too: every chunk must be hit)
cp -r "$D/c1" "$D/c3"
for p in "$D"/c3/packs/*.pack; do
  sz=$(stat -c %s "$p")
  at=$((sz / 2))
  while [ "$at" -lt "$sz" ]; do
    printf '\377\377\377\377\377\377\377\377' | dd of="$p" bs=1 seek=$at conv=notrunc 2>/dev/null
    at=$((at + 512))
  done
done
run corrupt "$D/c3" -d cache
grep -q "^cache: .*\(corrupt\|checksum\|mismatch\|dropped\)" "$D/corrupt.err" ||
  fail "corrupt pack: no -d cache message: $(grep '^cache' "$D/corrupt.err" | head -5)"
[ "$(regions "$D/corrupt.err" 3)" = 0 ] || fail "corrupt pack: regions still loaded"
[ "$(compiled "$D/corrupt.err")" -gt 0 ] 2>/dev/null || fail "corrupt pack: nothing retranslated"
"$EC" --cache-dir "$D/c3" verify >/dev/null 2>&1 || fail "the next writer did not replace the bad pack"

# 4. two writers at once on a fresh cache, then a warm run
"$EMU" --tier=auto --stats --cache-dir "$D/c4" "$G" >"$D/w1.out" 2>"$D/w1.err" &
p1=$!
"$EMU" --tier=auto --stats --cache-dir "$D/c4" "$G" >"$D/w2.out" 2>"$D/w2.err" &
p2=$!
wait $p1 || fail "writer 1 failed"
wait $p2 || fail "writer 2 failed"
cmp -s "$D/want" "$D/w1.out" && cmp -s "$D/want" "$D/w2.out" || fail "concurrent writers: wrong output"
"$EC" --cache-dir "$D/c4" verify >/dev/null 2>&1 || fail "emu-cache verify after concurrent writers"
EMU_LLVM_FORBID=1 run warm4 "$D/c4"
[ "$(regions "$D/warm4.err" 3)" -gt 0 ] 2>/dev/null || fail "after concurrent writers: nothing loaded"
[ "$(compiled "$D/warm4.err")" = 0 ] || fail "after concurrent writers: regions compiled again"

# --no-cache and --cache=ro write nothing
run nocache "$D/c5" --no-cache
[ -e "$D/c5/packs" ] && ls "$D"/c5/packs/*.pack >/dev/null 2>&1 && fail "--no-cache wrote a pack"
run ro "$D/c1" --cache=ro
[ "$(regions "$D/ro.err" 10)" = 0 ] || fail "--cache=ro stored regions"

# 5. self-modifying code: a cached region whose member (never a block of
#    its own) is patched after the region was loaded must be dropped
aarch64-linux-gnu-gcc -O2 -static -o "$D/smc" "$(dirname "$0")/guest/smc-member.c" ||
  fail "cannot build smc-member"
# (which regions a cold run stores depends on the worker's timing: LLVM's
# load and the compile can outlast a run and its exit drain, which three
# runs in a row did about once in 40; up to six runs, every one must be
# right and a later one must load a region)
loaded=0
for i in 1 2 3 4 5 6; do
  "$EMU" --tier=auto --cache-dir "$D/c6" -d cache,tier "$D/smc" >"$D/smc$i.out" 2>"$D/smc$i.err" ||
    fail "smc run $i failed"
  [ "$(cat "$D/smc$i.out")" = "40000000 3000" ] ||
    fail "smc run $i printed '$(cat "$D/smc$i.out")', want '40000000 3000' (stale region code)"
  [ "$i" -gt 1 ] && grep -q "^cache: region .* loaded" "$D/smc$i.err" && { loaded=1; break; }
done
[ "$loaded" = 1 ] || fail "smc: no warm run loaded a region: $(grep -h -E '^cache: region|Tier-up' "$D"/smc[1-6].err | head -20)"

# 6. dropped regions: with a probe that drops every region it decides on
#    (short_loop's, entered per call), a run stores a marker instead of the
#    object; later runs meet it (which run first does depends on the
#    worker's timing: up to four), then a run with no LLVM to be had loads
#    nothing dropped, compiles nothing and forms no region over them
drops() { sed -n 's/^  cache dropped regions *\([0-9]*\) met.*, \([0-9]*\) stored$/\1 \2/p' "$1"; }
met=0
for i in 1 2 3 4; do
  EMU_REGION_MIN_CYCLES=1000000000 run drop$i "$D/c9"
  [ "$(drops "$D/drop$i.err" | cut -d' ' -f1)" -gt 0 ] 2>/dev/null && { met=1; break; }
done
[ "$met" = 1 ] || fail "drop: no run met a dropped-region marker: $(grep -E 'dropped|probe' "$D/drop4.err")"
EMU_REGION_MIN_CYCLES=1000000000 EMU_LLVM_FORBID=1 run drop5 "$D/c9"
[ "$(drops "$D/drop5.err" | cut -d' ' -f1)" -gt 0 ] 2>/dev/null || fail "drop: the last run met no marker"
[ "$(compiled "$D/drop5.err")" = 0 ] || fail "drop: the last run compiled $(compiled "$D/drop5.err") regions"
grep -q "EMU_LLVM_FORBID" "$D/drop5.err" && fail "drop: the last run tried to load LLVM"
"$EC" --cache-dir "$D/c9" verify >/dev/null 2>&1 || fail "drop: emu-cache verify with markers"

# 6b. a hot loop whose trips come far apart (here every loop: at most 1 ps
#    per insn of its header and latch) forms no region and leaves a marker:
#    no LLVM is loaded, and a later run with the usual limit compiles nothing
far() { sed -n 's/.* \([0-9]*\) whose trips came far apart.*/\1/p' "$1"; }
EMU_REGION_TRIP_PS=1 EMU_LLVM_FORBID=1 run far1 "$D/c6"
[ "$(far "$D/far1.err")" -gt 0 ] 2>/dev/null || fail "far: no loop's trips came far apart: $(grep tier-up "$D/far1.err")"
[ "$(compiled "$D/far1.err")" = 0 ] || fail "far: the first run compiled $(compiled "$D/far1.err") regions"
grep -q "EMU_LLVM_FORBID" "$D/far1.err" && fail "far: the first run tried to load LLVM"
EMU_LLVM_FORBID=1 run far2 "$D/c6"
[ "$(compiled "$D/far2.err")" = 0 ] || fail "far: the second run compiled $(compiled "$D/far2.err") regions"
grep -q "EMU_LLVM_FORBID" "$D/far2.err" && fail "far: the second run tried to load LLVM: the markers were not met"

# 7. template blocks: a warm template run translates nothing and prints the
#    same; a pack whose entries are damaged is retranslated, never run
field() { sed -n "s/^  $2 *//p" "$1" | awk '{print $1}'; }
# (--stats runs read the cache but store nothing: their code has counters)
"$EMU" --tier=template --stats --cache-dir "$D/c7" "$G" >"$D/t0.out" 2>"$D/t0.err" || fail "template --stats run"
[ -n "$(ls "$D"/c7/packs/*.pack 2>/dev/null)" ] && fail "a --stats run stored template blocks"
"$EMU" --tier=template --cache-dir "$D/c7" "$G" >"$D/t1.out" 2>"$D/t1.err" || fail "template cold run"
"$EMU" --tier=template --stats --cache-dir "$D/c7" "$G" >"$D/t2.out" 2>"$D/t2.err" || fail "template warm run"
cmp -s "$D/want" "$D/t2.out" || fail "template warm run printed $(cat "$D/t2.out")"
[ "$(field "$D/t0.err" 'blocks translated')" -gt 50 ] 2>/dev/null || fail "template cold run: $(grep translated "$D/t0.err")"
[ "$(field "$D/t2.err" 'blocks translated')" = 0 ] ||
  fail "template warm run translated $(field "$D/t2.err" 'blocks translated') blocks"
grep -q "cache template blocks .* [1-9][0-9]* loaded" "$D/t2.err" || fail "template warm run loaded nothing"
for p in "$D"/c7/packs/*.pack; do
  sz=$(stat -c %s "$p"); at=$((sz / 3))
  while [ "$at" -lt "$sz" ]; do
    printf '\125\252' | dd of="$p" bs=1 seek=$at conv=notrunc 2>/dev/null
    at=$((at + 700))
  done
done
"$EMU" --tier=template --stats --cache-dir "$D/c7" -d cache "$G" >"$D/t3.out" 2>"$D/t3.err" ||
  fail "template run on a damaged pack: $(tail -3 "$D/t3.err")"
cmp -s "$D/want" "$D/t3.out" || fail "template run on a damaged pack printed $(cat "$D/t3.out")"
[ "$(field "$D/t3.err" 'blocks translated')" -gt 0 ] 2>/dev/null || fail "damaged pack: nothing retranslated"

# 8. verify --deep: every template block translated again and equal; then
#    the binary's code changes under the same build id: --deep names it
cp "$G" "$D/deep-prog"
"$EMU" --tier=template --cache-dir "$D/c8" "$D/deep-prog" >/dev/null 2>&1 || fail "deep: fill run"
"$EC" --cache-dir "$D/c8" verify --deep >"$D/deep1" 2>&1 || fail "deep: verify --deep on a good cache: $(tail -3 "$D/deep1")"
grep -q "deep: [1-9][0-9]* template blocks translated again" "$D/deep1" || fail "deep: nothing checked: $(cat "$D/deep1")"
# a cache written under another -cpu model: its blocks end at other UNDEF
# insns, and --deep translates them as that run did (the pack's build id)
"$EMU" -cpu cortex-a53 --tier=template --cache-dir "$D/c8a53" "$D/deep-prog" >/dev/null 2>&1 || fail "deep: a53 fill run"
"$EC" --cache-dir "$D/c8a53" verify --deep >"$D/deep-a53" 2>&1 ||
  fail "deep: verify --deep on a -cpu cortex-a53 cache: $(tail -3 "$D/deep-a53")"
entry=$(readelf -h "$D/deep-prog" | awk '/Entry point/ {print $4}')
off=
readelf -lW "$D/deep-prog" >"$D/deep-phdrs"
while read -r typ foff vaddr _ fsz _; do   # LOAD Offset VirtAddr PhysAddr FileSiz MemSiz ...
  [ "$typ" = LOAD ] || continue
  if [ $((entry)) -ge $((vaddr)) ] && [ $((entry)) -lt $((vaddr + fsz)) ]; then
    off=$((entry - vaddr + foff)); break
  fi
done <"$D/deep-phdrs"
if [ -n "$off" ]; then
  printf '\037\040\003\325' | dd of="$D/deep-prog" bs=1 seek=$((off + 8)) conv=notrunc 2>/dev/null  # a nop
  "$EC" --cache-dir "$D/c8" verify --deep >"$D/deep2" 2>&1 && fail "deep: a changed binary passed verify --deep"
  grep -q "guest code differs" "$D/deep2" || fail "deep: no message for the changed binary: $(head -3 "$D/deep2")"
else
  fail "deep: cannot find the entry point in the file"
fi

[ "$fails" = 0 ] && echo "tier-cache: all passed" || echo "tier-cache: $fails failures"
[ "$fails" = 0 ]

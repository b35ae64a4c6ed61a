#!/usr/bin/env python3
"""decodetree.py - generate a C instruction decoder from a pattern file.

Usage:
  decodetree.py --name NAME --out-c OUT.c --out-h OUT.h [--include HDR] FILE.decode

It writes OUT.h (argument structs, trans_* prototypes, the decoder prototype)
and OUT.c (the decoder):

  bool a64_decode_NAME(DisasContext *s, uint32_t insn);

which finds the patterns matching `insn` in FILE order, extracts their fields
into an arg struct and calls `bool trans_PATTERN(DisasContext *s, arg_PATTERN *a)`.
A trans_ function returning false means "not this one": the decoder goes on
with the next matching pattern, and returns false when none is left
(unallocated encoding).  HDR (default frontend/aarch64/a64-translate.h) must
define DisasContext, and may define DECODE_MARK(s) / DECODE_ROLLBACK(s, mark)
(an unsigned mark taken before each trans_ call, restored when it returns
false) so that a rejecting trans_ leaves no output behind.

File format (32-bit instructions, one item per line, `#` starts a comment, a
trailing backslash continues a line):

  Fields  - %NAME SEG... [!function=FN]
      SEG is POS:LEN (unsigned) or POS:sLEN (signed, sign taken from this
      segment); several segments are concatenated, the first one most
      significant.  FN, if given, is `int FN(DisasContext *s, int x)` applied
      to the extracted value (define it non-static in C).
        %imm26   0:s26
        %imm19   5:s19 !function=times_4
  Argument sets - &NAME FIELD...
      A named struct `arg_NAME` with int members; patterns that use it get
      `typedef arg_NAME arg_PATTERN`, so one C function can serve many.
        &rri   rd rn imm
  Formats - @NAME BITS... [&SET] [ARG...]
      A reusable layout: fixed bits, don't-cares and fields.
        @addsub_imm  sf:1 .. ...... .. sh:1 imm:12 rn:5 rd:5  &addsub_i
  Patterns - NAME BITS... [@FORMAT] [&SET] [ARG...]
      BITS are tokens read most significant bit first, 32 bits in all:
        0 1      fixed bits
        . -      don't care (- is the same as .; handy where a format
                 supplies the bits)
        F:LEN    an inline unsigned field F of LEN bits   (F:sLEN signed)
      ARG is F=%FIELD (member F gets field FIELD), %FIELD (member named like
      the field) or F=NUMBER (a constant).  A pattern with a format takes the
      format's fixed bits and fields too; its own bits must agree.  The same
      NAME may appear several times (several encodings of one operation);
      its struct then has the union of the members (missing ones are 0).
        ADD_i   sf:1 0 0 100010 sh:1 imm:12 rn:5 rd:5
        B       0 00101 ..........................  %imm26
  Groups - `{` and `}` on lines of their own may bracket overlapping
      patterns for the reader; matching is first-match-wins in file order
      everywhere, so groups do not change the meaning.

The decoder is a decision tree: a switch on the bits every pattern of a run
fixes, recursively, falling back to mask/value tests in file order; a run of
patterns that share no fixed bit is split into consecutive sub-runs.
"""

import argparse
import re
import sys

WIDTH = 32


class DecodeError(Exception):
    pass


class Field:
    def __init__(self, name, segs, func=None):
        self.name = name
        self.segs = segs          # list of (pos, len, signed)
        self.func = func

    def width(self):
        return sum(s[1] for s in self.segs)

    def c_expr(self):
        parts = []
        shift = self.width()
        for pos, ln, sgn in self.segs:
            shift -= ln
            fn = 'sextract32' if sgn else 'extract32'
            e = '%s(insn, %d, %d)' % (fn, pos, ln)
            if shift:
                # shift as unsigned so a negative top segment stays well-defined
                e = '(int)((uint32_t)%s << %d)' % (e, shift)
            parts.append(e)
        e = ' | '.join(parts) if len(parts) > 1 else parts[0]
        if self.func:
            e = '%s(s, %s)' % (self.func, e)
        return e


class Pattern:
    def __init__(self, name, mask, value, members, argset, line):
        self.name = name
        self.mask = mask
        self.value = value
        self.members = members    # list of (member, kind, payload); kind: field|const
        self.argset = argset
        self.line = line


def parse_bits(tokens, fields_out, line):
    """Parse bit tokens; return (mask, value, inline fields, remaining tokens)."""
    mask = value = 0
    pos = WIDTH
    inline = []
    rest = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if re.fullmatch(r'[01.\-]+', tok):
            for ch in tok:
                pos -= 1
                if pos < 0:
                    raise DecodeError('line %d: more than %d bits' % (line, WIDTH))
                if ch in '01':
                    mask |= 1 << pos
                    value |= int(ch) << pos
            i += 1
            continue
        m = re.fullmatch(r'([A-Za-z_]\w*):(s?)(\d+)', tok)
        if m:
            ln = int(m.group(3))
            if ln <= 0:
                raise DecodeError('line %d: zero-width field %s' % (line, tok))
            pos -= ln
            if pos < 0:
                raise DecodeError('line %d: more than %d bits' % (line, WIDTH))
            inline.append(Field(m.group(1), [(pos, ln, m.group(2) == 's')]))
            i += 1
            continue
        break
    rest = tokens[i:]
    if pos != 0:
        raise DecodeError('line %d: pattern has %d bits, want %d' % (line, WIDTH - pos, WIDTH))
    return mask, value, inline, rest


class Decoder:
    def __init__(self):
        self.fields = {}
        self.argsets = {}        # name -> list of members
        self.formats = {}        # name -> (mask, value, inline fields, args)
        self.patterns = []
        self.func_protos = set()

    # ---- parsing ---------------------------------------------------------
    def parse(self, text):
        lines = []
        cont = ''
        start = 0
        for n, raw in enumerate(text.split('\n'), 1):
            s = raw.split('#', 1)[0].rstrip()
            if not cont:
                start = n
            if s.endswith('\\'):
                cont += s[:-1] + ' '
                continue
            s = cont + s
            cont = ''
            if s.strip():
                lines.append((start, s.split()))
        depth = 0
        for n, toks in lines:
            head = toks[0]
            if head in ('{', '['):
                depth += 1
                if len(toks) > 1:
                    raise DecodeError('line %d: "%s" must be alone on its line' % (n, head))
            elif head in ('}', ']'):
                depth -= 1
                if depth < 0:
                    raise DecodeError('line %d: unbalanced "%s"' % (n, head))
            elif head.startswith('%'):
                self.parse_field(n, toks)
            elif head.startswith('&'):
                self.parse_argset(n, toks)
            elif head.startswith('@'):
                self.parse_format(n, toks)
            else:
                self.parse_pattern(n, toks)
        if depth:
            raise DecodeError('unclosed group at end of file')
        if not self.patterns:
            raise DecodeError('no patterns')

    def parse_field(self, n, toks):
        name = toks[0][1:]
        if not re.fullmatch(r'[A-Za-z_]\w*', name):
            raise DecodeError('line %d: bad field name %r' % (n, name))
        if name in self.fields:
            raise DecodeError('line %d: field %s defined twice' % (n, name))
        segs = []
        func = None
        for t in toks[1:]:
            m = re.fullmatch(r'(\d+):(s?)(\d+)', t)
            if m:
                pos, ln = int(m.group(1)), int(m.group(3))
                if ln <= 0 or pos + ln > WIDTH:
                    raise DecodeError('line %d: bad segment %s' % (n, t))
                segs.append((pos, ln, m.group(2) == 's'))
                continue
            m = re.fullmatch(r'!function=([A-Za-z_]\w*)', t)
            if m:
                func = m.group(1)
                continue
            raise DecodeError('line %d: bad field token %r' % (n, t))
        if not segs:
            raise DecodeError('line %d: field %s has no bits' % (n, name))
        if sum(s[1] for s in segs) > 32:
            raise DecodeError('line %d: field %s wider than 32 bits' % (n, name))
        self.fields[name] = Field(name, segs, func)
        if func:
            self.func_protos.add(func)

    def parse_argset(self, n, toks):
        name = toks[0][1:]
        if name in self.argsets:
            raise DecodeError('line %d: argument set %s defined twice' % (n, name))
        members = toks[1:]
        for m in members:
            if not re.fullmatch(r'[A-Za-z_]\w*', m):
                raise DecodeError('line %d: bad member %r' % (n, m))
        if len(set(members)) != len(members):
            raise DecodeError('line %d: duplicate member in &%s' % (n, name))
        self.argsets[name] = members

    def parse_args(self, n, rest):
        """Return (format, argset, list of (member, kind, payload))."""
        fmt = argset = None
        args = []
        for t in rest:
            if t.startswith('@'):
                if t[1:] not in self.formats:
                    raise DecodeError('line %d: unknown format %s' % (n, t))
                fmt = t[1:]
            elif t.startswith('&'):
                if t[1:] not in self.argsets:
                    raise DecodeError('line %d: unknown argument set %s' % (n, t))
                argset = t[1:]
            elif t.startswith('%'):
                f = t[1:]
                if f not in self.fields:
                    raise DecodeError('line %d: unknown field %s' % (n, t))
                args.append((f, 'field', self.fields[f]))
            else:
                m = re.fullmatch(r'([A-Za-z_]\w*)=(%?)([A-Za-z_]\w*|-?(?:0x[0-9a-fA-F]+|\d+))', t)
                if not m:
                    raise DecodeError('line %d: bad token %r' % (n, t))
                if m.group(2):
                    if m.group(3) not in self.fields:
                        raise DecodeError('line %d: unknown field %%%s' % (n, m.group(3)))
                    args.append((m.group(1), 'field', self.fields[m.group(3)]))
                else:
                    try:
                        v = int(m.group(3), 0)
                    except ValueError:
                        raise DecodeError('line %d: bad constant in %r' % (n, t))
                    args.append((m.group(1), 'const', v))
        return fmt, argset, args

    def parse_format(self, n, toks):
        name = toks[0][1:]
        if name in self.formats:
            raise DecodeError('line %d: format %s defined twice' % (n, name))
        mask, value, inline, rest = parse_bits(toks[1:], self.fields, n)
        fmt, argset, args = self.parse_args(n, rest)
        if fmt:
            raise DecodeError('line %d: a format cannot use a format' % n)
        members = [(f.name, 'field', f) for f in inline] + args
        self.formats[name] = (mask, value, members, argset)

    def parse_pattern(self, n, toks):
        name = toks[0]
        if not re.fullmatch(r'[A-Za-z_]\w*', name):
            raise DecodeError('line %d: bad pattern name %r' % (n, name))
        mask, value, inline, rest = parse_bits(toks[1:], self.fields, n)
        fmt, argset, args = self.parse_args(n, rest)
        members = []
        if fmt:
            fmask, fvalue, fmembers, fargset = self.formats[fmt]
            both = mask & fmask
            if (value & both) != (fvalue & both):
                raise DecodeError('line %d: fixed bits disagree with @%s' % (n, fmt))
            mask |= fmask
            value |= fvalue
            members += fmembers
            if argset is None:
                argset = fargset
        members += [(f.name, 'field', f) for f in inline] + args
        # later definitions of a member override earlier ones (pattern over format)
        seen = {}
        for m in members:
            seen[m[0]] = m
        members = list(seen.values())
        # fields must not overlap fixed bits
        for mem, kind, f in members:
            if kind != 'field':
                continue
            for pos, ln, _ in f.segs:
                fm = ((1 << ln) - 1) << pos
                if fm & mask:
                    raise DecodeError('line %d: field %s overlaps fixed bits' % (n, mem))
        if argset is not None:
            allowed = set(self.argsets[argset])
            for mem, _, _ in members:
                if mem not in allowed:
                    raise DecodeError('line %d: member %s not in &%s' % (n, mem, argset))
        for p in self.patterns:
            if p.name == name and p.argset != argset:
                raise DecodeError('line %d: %s used with different argument sets' % (n, name))
        self.patterns.append(Pattern(name, mask, value, members, argset, n))

    # ---- output ------------------------------------------------------------
    def struct_members(self, name):
        mems = []
        for p in self.patterns:
            if p.name == name:
                for m, _, _ in p.members:
                    if m not in mems:
                        mems.append(m)
        return mems

    def gen_header(self, fn, guard, include):
        out = []
        out.append('/* Generated by scripts/decodetree.py: do not edit. */')
        out.append('#ifndef %s' % guard)
        out.append('#define %s' % guard)
        out.append('#include <stdbool.h>')
        out.append('#include <stdint.h>')
        out.append('#include "%s"' % include)
        out.append('')
        for name, mems in self.argsets.items():
            out.append('typedef struct arg_%s {' % name)
            for m in mems:
                out.append('    int %s;' % m)
            if not mems:
                out.append('    int dummy_;')
            out.append('} arg_%s;' % name)
            out.append('')
        done = set()
        for p in self.patterns:
            if p.name in done:
                continue
            done.add(p.name)
            if p.argset:
                out.append('typedef arg_%s arg_%s;' % (p.argset, p.name))
            else:
                mems = self.struct_members(p.name)
                out.append('typedef struct arg_%s {' % p.name)
                for m in mems:
                    out.append('    int %s;' % m)
                if not mems:
                    out.append('    int dummy_;')
                out.append('} arg_%s;' % p.name)
            out.append('bool trans_%s(DisasContext *s, arg_%s *a);' % (p.name, p.name))
        out.append('')
        for f in sorted(self.func_protos):
            out.append('int %s(DisasContext *s, int x);' % f)
        out.append('')
        out.append('/* Decode insn; false if no pattern accepted it. */')
        out.append('bool %s(DisasContext *s, uint32_t insn);' % fn)
        out.append('')
        out.append('#endif')
        return '\n'.join(out) + '\n'

    def gen_call(self, p, ind, test=None):
        o = []
        o.append('%s/* %s, line %d */' % (ind, p.name, p.line))
        if test:
            o.append('%sif (%s) {' % (ind, test))
        else:
            o.append('%s{' % ind)
        o.append('%s    arg_%s a = {0};' % (ind, p.name))
        for m, kind, payload in p.members:
            if kind == 'field':
                o.append('%s    a.%s = %s;' % (ind, m, payload.c_expr()))
            else:
                o.append('%s    a.%s = %d;' % (ind, m, payload))
        o.append('%s    uint32_t mark = DECODE_MARK(s);' % ind)
        o.append('%s    if (trans_%s(s, &a)) return true;' % (ind, p.name))
        o.append('%s    DECODE_ROLLBACK(s, mark);' % ind)
        o.append('%s}' % ind)
        return o

    def gen_tree(self, pats, known, ind, depth):
        """Emit code trying pats in order; `known` = bits already tested."""
        o = []
        if not pats:
            return o
        common = WIDTH_MASK
        for p in pats:
            common &= p.mask
        common &= ~known
        if len(pats) >= 3 and common and depth < 16:
            cases = []   # ordered distinct values
            groups = {}
            for p in pats:
                v = p.value & common
                if v not in groups:
                    groups[v] = []
                    cases.append(v)
                groups[v].append(p)
            if len(cases) > 1:
                o.append('%sswitch (insn & 0x%08x) {' % (ind, common))
                for v in cases:
                    o.append('%scase 0x%08x:' % (ind, v))
                    o += self.gen_tree(groups[v], known | common, ind + '    ', depth + 1)
                    o.append('%s    break;' % ind)
                o.append('%s}' % ind)
                return o
            # one value only: a single test then go deeper
            o.append('%sif ((insn & 0x%08x) == 0x%08x) {' % (ind, common, cases[0]))
            o += self.gen_tree(pats, known | common, ind + '    ', depth + 1)
            o.append('%s}' % ind)
            return o
        if len(pats) >= 3 and depth < 16:
            # split into consecutive runs that share at least one new fixed bit
            runs = []
            cur = []
            cmask = WIDTH_MASK
            for p in pats:
                nm = cmask & p.mask & ~known
                if cur and not nm:
                    runs.append(cur)
                    cur = []
                    cmask = WIDTH_MASK
                    nm = p.mask & ~known
                cur.append(p)
                cmask = nm
            runs.append(cur)
            if len(runs) > 1:
                for r in runs:
                    o += self.gen_tree(r, known, ind, depth + 1)
                return o
        for p in pats:
            need = p.mask & ~known
            test = None
            if need:
                test = '(insn & 0x%08x) == 0x%08x' % (need, p.value & need)
            o += self.gen_call(p, ind, test)
        return o

    def gen_c(self, fn, header):
        out = []
        out.append('/* Generated by scripts/decodetree.py: do not edit. */')
        out.append('#include "%s"' % header)
        out.append('')
        out.append('/* The header may define DECODE_MARK(s) / DECODE_ROLLBACK(s, mark) to')
        out.append(' * undo what a trans_ function emitted before it returned false. */')
        out.append('#ifndef DECODE_MARK')
        out.append('#define DECODE_MARK(s) 0u')
        out.append('#define DECODE_ROLLBACK(s, mark) ((void)(mark))')
        out.append('#endif')
        out.append('')
        out.append('static inline int extract32(uint32_t v, int pos, int len)')
        out.append('{')
        out.append('    return (int)((v >> pos) & (0xffffffffu >> (32 - len)));')
        out.append('}')
        out.append('')
        out.append('static inline int sextract32(uint32_t v, int pos, int len)')
        out.append('{')
        out.append('    return (int32_t)(v << (32 - len - pos)) >> (32 - len);')
        out.append('}')
        out.append('')
        out.append('bool %s(DisasContext *s, uint32_t insn)' % fn)
        out.append('{')
        out += self.gen_tree(self.patterns, 0, '    ', 0)
        out.append('    return false;')
        out.append('}')
        return '\n'.join(out) + '\n'


WIDTH_MASK = (1 << WIDTH) - 1


def main():
    ap = argparse.ArgumentParser(description='generate a C decoder from a .decode file')
    ap.add_argument('--name', required=True, help='decoder suffix: a64_decode_NAME')
    ap.add_argument('--prefix', default='a64_decode_', help='decoder function prefix')
    ap.add_argument('--out-c', required=True)
    ap.add_argument('--out-h', required=True)
    ap.add_argument('--include', default='frontend/aarch64/a64-translate.h',
                    help='header defining DisasContext')
    ap.add_argument('--header-include', default=None,
                    help='how the .c includes the generated header (default: its basename)')
    ap.add_argument('input')
    args = ap.parse_args()
    try:
        with open(args.input) as f:
            text = f.read()
    except OSError as e:
        sys.exit('decodetree: %s' % e)
    d = Decoder()
    try:
        d.parse(text)
    except DecodeError as e:
        sys.exit('decodetree: %s: %s' % (args.input, e))
    fn = args.prefix + args.name
    guard = 'EMU_GEN_' + re.sub(r'\W', '_', fn).upper() + '_H'
    hinc = args.header_include or args.out_h.rsplit('/', 1)[-1]
    for path, text in ((args.out_h, d.gen_header(fn, guard, args.include)),
                       (args.out_c, d.gen_c(fn, hinc))):
        try:
            with open(path, 'w') as f:
                f.write(text)
        except OSError as e:
            sys.exit('decodetree: %s' % e)


if __name__ == '__main__':
    main()

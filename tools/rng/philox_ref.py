#!/usr/bin/env python3
"""philox_ref.py: an independent Python re-derivation of common/philox.h and common/rng.h (the
Philox4x32-10 generator, its word numbering, uniforms and Box-Muller normals), written from the
SC'11 paper and the definitions at the top of common/philox.h, not from the C code. It checks
itself against the Random123 known-answer vectors and against math.log/cos/sin, then writes
tests/fixtures/rng/expected.tsv, which tests/test_rng.c replays.

    python3 tools/rng/philox_ref.py [OUT.tsv]      (default tests/fixtures/rng/expected.tsv)

Rows: kind, seed, stream, position, value. kind is u32 | uniform | normal | uniform_double |
normal_double (one sequential call; position is the word position the call read, after rounding
up to even for the double kinds) or seek (the generator moves to `position`; value is -).
Values are the bit patterns in hex: 8 digits for u32 and floats, 16 for doubles. Rows of one
(seed, stream) follow each other, starting from a fresh generator at position 0."""
import math
import random
import struct
import sys
from fractions import Fraction

MASK32 = 0xFFFFFFFF
M = (0xD2511F53, 0xCD9E8D57)
W = (0x9E3779B9, 0xBB67AE85)


def philox4x32_10(ctr, key):
    x = list(ctr)
    k = list(key)
    for r in range(10):
        prod_a = M[0] * x[0]
        prod_b = M[1] * x[2]
        x = [(prod_b >> 32) ^ x[1] ^ k[0], prod_b & MASK32,
             (prod_a >> 32) ^ x[3] ^ k[1], prod_a & MASK32]
        k = [(k[0] + W[0]) & MASK32, (k[1] + W[1]) & MASK32]
    return x


KAT = [  # Random123 examples/kat_vectors: counter, key, expected
    ((0, 0, 0, 0), (0, 0), (0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8)),
    ((MASK32,) * 4, (MASK32,) * 2, (0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd)),
    ((0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344), (0xa4093822, 0x299f31d0),
     (0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1)),
]


def word(seed, stream, i):
    block = i // 4
    ctr = (block & MASK32, block >> 32, stream & MASK32, stream >> 32)
    return philox4x32_10(ctr, (seed & MASK32, seed >> 32))[i % 4]


def fma(a, b, c):
    """Correctly rounded a*b + c (exact rational arithmetic, one rounding)."""
    return float(Fraction(a) * Fraction(b) + Fraction(c))


LOG_COEF = [1 / (2 * k + 1) for k in range(1, 12)]              # 1/3 .. 1/23
SIN_COEF = [(-1) ** k / math.factorial(2 * k + 1) for k in range(1, 9)]   # -1/3! .. 1/17!
COS_COEF = [(-1) ** k / math.factorial(2 * k) for k in range(1, 10)]      # -1/2! .. -1/18!
LN2_HI, LN2_LO = 6.93147180369123816490e-01, 1.90821492927058770002e-10
TWO_PI = 6.283185307179586


def horner(coef, x2):
    acc = coef[-1]
    for c in reversed(coef[:-1]):
        acc = fma(acc, x2, c)
    return acc


def plog(u):
    m, e = math.frexp(u)
    if m < 0.70710678118654752440:
        m, e = m * 2, e - 1
    s = (m - 1) / (m + 1)
    s2 = s * s
    t = fma(s * s2, horner(LOG_COEF, s2), s)
    return fma(float(e), LN2_HI, fma(float(e), LN2_LO, 2 * t))


def sincos_turns(t):
    """cos and sin of 2 pi t for a dyadic t in [0, 1): nearest quarter turn q (halves up), the
    exact remainder f, polynomials on 2 pi f."""
    q = math.floor(Fraction(t) * 4 + Fraction(1, 2))
    f = float(Fraction(t) - Fraction(q, 4))
    x = f * TWO_PI
    x2 = x * x
    sx = fma(x * x2, horner(SIN_COEF, x2), x)
    cx = fma(horner(COS_COEF, x2), x2, 1.0)
    return [(cx, sx), (-sx, cx), (-cx, -sx), (sx, -cx)][q % 4]


def box_muller(u, t):
    c, s = sincos_turns(t)
    r = math.sqrt(-2.0 * plog(u))
    return r * c, r * s


def f32(x):
    return struct.unpack('<f', struct.pack('<f', x))[0]


def f32_bits(x):
    return struct.unpack('<I', struct.pack('<f', x))[0]


def f64_bits(x):
    return struct.unpack('<Q', struct.pack('<d', x))[0]


def normal_f32(seed, stream, i):
    a, b = word(seed, stream, i & ~1), word(seed, stream, i | 1)
    z = box_muller((a + 1) / 2 ** 32, b / 2 ** 32)
    return f32(z[i & 1])


def uniform_f32(seed, stream, i):
    return (word(seed, stream, i) >> 8) / 2 ** 24


def bits53(seed, stream, i):
    return ((word(seed, stream, i) << 32) | word(seed, stream, i + 1)) >> 11


def uniform_f64(seed, stream, j):
    return bits53(seed, stream, 2 * j) / 2 ** 53


def normal_f64(seed, stream, j):
    base = 4 * (j // 2)
    u = (bits53(seed, stream, base) + 1) / 2 ** 53
    t = bits53(seed, stream, base + 2) / 2 ** 53
    return box_muller(u, t)[j % 2]


class Gen:
    def __init__(self, seed, stream):
        self.seed, self.stream, self.pos = seed, stream, 0

    def call(self, kind):
        s, st = self.seed, self.stream
        if kind in ('uniform_double', 'normal_double'):
            self.pos = (self.pos + 1) & ~1
        p = self.pos
        if kind == 'u32':
            v = '%08x' % word(s, st, p)
        elif kind == 'uniform':
            v = '%08x' % f32_bits(uniform_f32(s, st, p))
        elif kind == 'normal':
            v = '%08x' % f32_bits(normal_f32(s, st, p))
        elif kind == 'uniform_double':
            v = '%016x' % f64_bits(uniform_f64(s, st, p // 2))
        else:
            v = '%016x' % f64_bits(normal_f64(s, st, p // 2))
        self.pos += 2 if kind.endswith('double') else 1
        return p, v


def selfcheck():
    for ctr, key, want in KAT:
        got = tuple(philox4x32_10(ctr, key))
        assert got == want, (ctr, key, ['%08x' % g for g in got])
    rnd = random.Random(7)
    worst_log = worst_trig = 0.0
    for _ in range(20000):
        u = (rnd.getrandbits(53) + 1) / 2 ** 53
        worst_log = max(worst_log, abs(plog(u) - math.log(u)) / max(abs(math.log(u)), 1e-300))
        t = rnd.getrandbits(53) / 2 ** 53
        c, s = sincos_turns(t)
        worst_trig = max(worst_trig, abs(c - math.cos(2 * math.pi * t)),
                         abs(s - math.sin(2 * math.pi * t)))
    assert worst_log < 1e-15 and worst_trig < 1e-15, (worst_log, worst_trig)
    print('# self-check: Random123 KAT ok; max rel error of log %.2e, max abs error of cos/sin '
          '%.2e' % (worst_log, worst_trig), file=sys.stderr)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else 'tests/fixtures/rng/expected.tsv'
    selfcheck()
    rnd = random.Random(2024)
    streams = [(0, 0), (1, 0), (0, 1), (42, 3), (0xdeadbeefcafef00d, 0x123456789abcdef0),
               (2 ** 64 - 1, 2 ** 64 - 1)]
    kinds = ['u32', 'uniform', 'normal', 'uniform_double', 'normal_double']
    rows = []
    for seed, stream in streams:
        g = Gen(seed, stream)
        plan = ['u32'] * 12 + ['uniform'] * 12 + ['normal'] * 20 + ['uniform_double'] * 6 + \
            ['normal_double'] * 10 + [rnd.choice(kinds) for _ in range(40)]
        for kind in plan:
            p, v = g.call(kind)
            rows.append((kind, seed, stream, p, v))
        for target in (2 ** 32 + 5, 2 ** 62 - 7):  # high counter words, then near the end
            g.pos = target
            rows.append(('seek', seed, stream, target, '-'))
            for kind in ['normal'] * 3 + ['u32'] * 2 + ['normal_double'] * 3 + ['uniform']:
                p, v = g.call(kind)
                rows.append((kind, seed, stream, p, v))
    with open(out, 'w') as f:
        f.write('# generated by tools/rng/philox_ref.py; kind seed stream position value\n')
        for kind, seed, stream, p, v in rows:
            f.write('%s\t%d\t%d\t%d\t%s\n' % (kind, seed, stream, p, v))
    print('# wrote %d rows to %s' % (len(rows), out), file=sys.stderr)


if __name__ == '__main__':
    main()

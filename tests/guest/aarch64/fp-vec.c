/*
 * fp-vec.c - loops that gcc vectorizes with AdvSIMD (built at -O3 through
 * the optimize attribute): float/double arithmetic, fused multiply-add,
 * conversions, min/max, abs, compares and selects, integer reductions,
 * widening/narrowing, plus libm calls.  Prints checksums of the results.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N 1003
#define VEC __attribute__((optimize("O3"), noinline))

static float fa[N], fb[N], fc[N];
static double da[N], db[N], dc[N];
static int32_t ia[N], ib[N];
static int64_t la[N];
static uint8_t ua[N], ub[N];
static int16_t sa[N];

static uint64_t h;
static void mix(const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ull;
    }
}
#define REPORT(name, arr) do { h = 0xcbf29ce484222325ull; mix(arr, sizeof arr); \
    printf("%-12s %016llx\n", name, (unsigned long long)h); } while (0)

VEC static void saxpy(float a) { for (int i = 0; i < N; i++) fc[i] = a * fa[i] + fb[i]; }
VEC static void daxpy(double a) { for (int i = 0; i < N; i++) dc[i] = a * da[i] + db[i]; }
VEC static void fops(void) { for (int i = 0; i < N; i++) fc[i] = (fa[i] - fb[i]) / (fabsf(fb[i]) + 1.5f); }
VEC static void dops(void) { for (int i = 0; i < N; i++) dc[i] = sqrt(fabs(da[i])) * db[i] - da[i]; }
VEC static void fminmax(void) { for (int i = 0; i < N; i++) fc[i] = fmaxf(fa[i], fb[i]) + fminf(fa[i], -fb[i]); }
VEC static void dsel(void) { for (int i = 0; i < N; i++) dc[i] = da[i] > db[i] ? da[i] : db[i] * 2.0; }
VEC static void f2i(void) { for (int i = 0; i < N; i++) ia[i] = (int32_t)(fa[i] * 1000.0f); }
VEC static void i2f(void) { for (int i = 0; i < N; i++) fc[i] = (float)ib[i] * 0.25f; }
VEC static void d2l(void) { for (int i = 0; i < N; i++) la[i] = (int64_t)(da[i] * 1e6); }
VEC static void l2d(void) { for (int i = 0; i < N; i++) dc[i] = (double)la[i] / 3.0; }
VEC static void f2d(void) { for (int i = 0; i < N; i++) dc[i] = (double)fa[i] * db[i]; }
VEC static void d2f(void) { for (int i = 0; i < N; i++) fc[i] = (float)(da[i] + db[i]); }
VEC static float fsum(void) { float s = 0; for (int i = 0; i < N; i++) s += fa[i] * fb[i]; return s; }
VEC static int32_t isum(void) { int32_t s = 0; for (int i = 0; i < N; i++) s += ia[i] * ib[i]; return s; }
VEC static uint32_t usum(void) { uint32_t s = 0; for (int i = 0; i < N; i++) s += ua[i]; return s; }
VEC static uint8_t umaxr(void) { uint8_t m = 0; for (int i = 0; i < N; i++) m = ua[i] > m ? ua[i] : m; return m; }
VEC static void bytes(void) { for (int i = 0; i < N; i++) ub[i] = (uint8_t)((ua[i] >> 1) + (ub[i] & 0x3f) + (ua[i] == 7)); }
VEC static void widen(void) { for (int i = 0; i < N; i++) ia[i] = sa[i] * (int32_t)ua[i] - ib[i]; }
VEC static void narrow(void) { for (int i = 0; i < N; i++) sa[i] = (int16_t)(ia[i] >> 3); }
VEC static void imin(void) { for (int i = 0; i < N; i++) ib[i] = ia[i] < ib[i] ? ia[i] : ib[i]; }
VEC static void absdiff(void) { for (int i = 0; i < N; i++) ub[i] = (uint8_t)abs(ua[i] - ub[i]); }

int main(void)
{
    for (int i = 0; i < N; i++) {
        fa[i] = (float)(i % 97) * 0.37f - 11.0f;
        fb[i] = (float)((i * 7) % 113) * -0.11f + 3.0f;
        da[i] = (double)(i % 89) * 1.37 - 40.0;
        db[i] = (double)((i * 5) % 71) * 0.013 + 0.5;
        ib[i] = (i * 2654435761u) >> 12;
        ua[i] = (uint8_t)(i * 13 + 7);
        ub[i] = (uint8_t)(i * 29);
        sa[i] = (int16_t)(i * 331 - 30000);
    }
    saxpy(1.25f); REPORT("saxpy", fc);
    daxpy(-0.75); REPORT("daxpy", dc);
    fops(); REPORT("fops", fc);
    dops(); REPORT("dops", dc);
    fminmax(); REPORT("fminmax", fc);
    dsel(); REPORT("dsel", dc);
    f2i(); REPORT("f2i", ia);
    i2f(); REPORT("i2f", fc);
    d2l(); REPORT("d2l", la);
    l2d(); REPORT("l2d", dc);
    f2d(); REPORT("f2d", dc);
    d2f(); REPORT("d2f", fc);
    printf("fsum %a\n", fsum());
    printf("isum %d usum %u umax %u\n", isum(), usum(), umaxr());
    bytes(); REPORT("bytes", ub);
    widen(); REPORT("widen", ia);
    narrow(); REPORT("narrow", sa);
    imin(); REPORT("imin", ib);
    absdiff(); REPORT("absdiff", ub);
    double x = 0;
    for (int i = 1; i < 200; i++)
        x += sin(i * 0.1) * exp(-i * 0.01) + log(i) / sqrt(i) + pow(1.01, i) + floor(i * 0.3) + round(i * 0.7) + fmod(i, 7.5);
    float y = 0;
    for (int i = 1; i < 200; i++)
        y += sinf(i * 0.1f) + expf(i * 0.01f) + logf(i) + cbrtf(i) + truncf(i * 0.37f) + nearbyintf(i * 0.5f);
    printf("libm %a %a\n", x, y);
    printf("printf %.17g %.9g %e %g\n", 1.0 / 3.0, 2.0f / 3.0f, 6.02214076e23, -0.000123456);
    return 0;
}

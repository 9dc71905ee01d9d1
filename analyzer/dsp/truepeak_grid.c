/* The true-peak grid of analyzer.dsp.compiled.truepeak_rows, for the library that
 * analyzer.dsp.native_build builds and analyzer.dsp.native loads.
 *
 * The same float32 sums in the same order as numba's kernel (each phase summed over its taps in
 * order, products rounded to float32, no fused multiply-add: the build passes -ffp-contract=off),
 * so it gives numba's bits (tests/dsp/test_native.py). What differs is where the partial sums
 * live: numba keeps them in an array that the tap loop reloads and stores for every tap; here a
 * block of MX_BLOCK rows is summed in local arrays that the compiler keeps in vector registers,
 * and each sample is rounded to float32 once per tile instead of once per block. It is compiled
 * for the CPU that builds it (-march=native): the sums are independent across rows, so wider
 * vectors pay (~3x numba's kernel with AVX-512, ~2x with AVX2); the library's key names the
 * CPU's features, so it is never loaded on a CPU that lacks them.
 *
 * Licence: GPL-3.0-or-later (as the rest of mixanalyzer).
 */
#include <math.h>
#include <stdint.h>

/* 2 * analyzer.dsp.oversample.HALF_TAPS; the loader refuses any other filter length. */
#define MX_TAPS 32
/* Rows summed together in registers: three phases of 32 float32 sums fill six AVX-512 or
 * twelve AVX2 registers. */
#define MX_BLOCK 32
/* Rows per tile: the tile's samples (as float32) and sums stay in the L1 cache. */
#define MX_TILE 1024

int64_t mx_truepeak_rows(const double *x, int64_t first, int64_t after, const float *h,
                         int64_t phases, double over, int64_t rows, double *row_max,
                         int8_t *arg)
{
    /* Row r interpolates x[first + r .. first + r + MX_TAPS) with the columns of h
     * (MX_TAPS x phases, row-major); row_max[r] is the largest of |x[after + r]| and the
     * phases' absolute values, arg[r] 0 when the sample is that largest (ties to the sample),
     * else 1 + the first largest phase. Returns the rows with a phase above `over`. */
    float xb[MX_TILE + MX_TAPS + MX_BLOCK];
    float y[3][MX_TILE];
    float best[MX_TILE];
    int8_t col[MX_TILE];
    int64_t overs = 0;
    for (int64_t t0 = 0; t0 < rows; t0 += MX_TILE) {
        int64_t m = rows - t0 < MX_TILE ? rows - t0 : MX_TILE;
        int64_t need = m + MX_TAPS - 1;
        for (int64_t i = 0; i < need; i++)
            xb[i] = (float)x[first + t0 + i];
        for (int64_t i = need; i < MX_TILE + MX_TAPS + MX_BLOCK; i++)
            xb[i] = 0.0f;  /* read by the last block's unused rows only */
        for (int64_t p0 = 0; p0 < phases; p0 += 3) {
            float hp[3][MX_TAPS];
            for (int k = 0; k < MX_TAPS; k++)
                for (int q = 0; q < 3; q++)
                    hp[q][k] = p0 + q < phases ? h[k * phases + p0 + q] : 0.0f;
            for (int64_t j0 = 0; j0 < m; j0 += MX_BLOCK) {
                float a0[MX_BLOCK], a1[MX_BLOCK], a2[MX_BLOCK];
                for (int j = 0; j < MX_BLOCK; j++) {
                    a0[j] = 0.0f;
                    a1[j] = 0.0f;
                    a2[j] = 0.0f;
                }
                const float *xs = xb + j0;
                for (int k = 0; k < MX_TAPS; k++) {
                    float h0 = hp[0][k], h1 = hp[1][k], h2 = hp[2][k];
                    for (int j = 0; j < MX_BLOCK; j++) {
                        float v = xs[j + k];
                        a0[j] += h0 * v;
                        a1[j] += h1 * v;
                        a2[j] += h2 * v;
                    }
                }
                for (int j = 0; j < MX_BLOCK; j++) {
                    y[0][j0 + j] = a0[j];
                    y[1][j0 + j] = a1[j];
                    y[2][j0 + j] = a2[j];
                }
            }
            int64_t used = phases - p0 < 3 ? phases - p0 : 3;
            for (int64_t q = 0; q < used; q++) {
                for (int64_t j = 0; j < m; j++) {
                    float v = fabsf(y[q][j]);
                    if (p0 + q == 0 || v > best[j]) {  /* the first largest phase wins */
                        best[j] = v;
                        col[j] = (int8_t)(p0 + q);
                    }
                }
            }
        }
        for (int64_t j = 0; j < m; j++) {
            float b = best[j];
            overs += (double)b > over;
            double s = fabs(x[after + t0 + j]);
            if (s >= (double)b) {
                row_max[t0 + j] = s;
                arg[t0 + j] = 0;
            } else {
                row_max[t0 + j] = (double)b;
                arg[t0 + j] = (int8_t)(col[j] + 1);
            }
        }
    }
    return overs;
}

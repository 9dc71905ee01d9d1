/* The limiter's gain computer for one chunk (analyzer.mastering.limiter_jit.envelope), for the
 * library that analyzer.dsp.native_build builds and analyzer.dsp.native loads, so that master
 * needs no numba (its import and cached code cost ~0.5 s of one core, mostly under the GIL).
 *
 * Stage for stage and operation for operation numba's kernel: van Herk / Gil-Werman running
 * maxima (exact), box sums as differences of one sequential cumulative sum, the release
 * recursions as written, in double precision without fused multiply-add (the build passes
 * -ffp-contract=off), so it gives numba's bits (tests/dsp/test_native.py).
 * What the stages mean: analyzer.mastering.limiter (steps 2-4) and
 * analyzer.mastering.limiter_kernel.
 *
 * Licence: GPL-3.0-or-later (as the rest of mixanalyzer).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* numba's max(a, b) on floats: b only when strictly greater. */
static inline double mx_max(double a, double b) { return b > a ? b : a; }

/* out[i] = max(a[i : i + width]) for i in 0 .. n - width (g, h: n doubles of scratch). */
static void run_max(const double *a, int64_t n, int64_t width, double *out, double *g,
                    double *h)
{
    for (int64_t s = 0; s < n; s += width) {
        int64_t e = s + width < n ? s + width : n;
        g[s] = a[s];
        for (int64_t i = s + 1; i < e; i++)
            g[i] = mx_max(a[i], g[i - 1]);
        h[e - 1] = a[e - 1];
        for (int64_t i = e - 2; i >= s; i--)
            h[i] = mx_max(a[i], h[i + 1]);
    }
    for (int64_t i = 0; i + width <= n; i++)
        out[i] = mx_max(h[i], g[i + width - 1]);
}

/* Sums of width consecutive values over scale, never below zero (cs: n + 1 doubles). */
static void run_box(const double *joined, int64_t n, int64_t width, double scale, double *out,
                    double *cs)
{
    double acc = 0.0;
    cs[0] = 0.0;
    for (int64_t i = 0; i < n; i++) {
        acc += joined[i];
        cs[i + 1] = acc;
    }
    for (int64_t i = 0; i + width <= n; i++) {
        double d = cs[i + width] - cs[i];
        out[i] = mx_max(d, 0.0) / scale;
    }
}

/* out[j] = max(v[j], a * out[j - 1]) with out[-1] = prev; a decay below tiny ends at zero. */
static void run_decay(const double *v, int64_t n, double prev, double a, double tiny,
                      double *out)
{
    double e = prev;
    for (int64_t j = 0; j < n; j++) {
        e = a * e;
        if (e < tiny)
            e = 0.0;
        e = mx_max(v[j], e);
        out[j] = e;
    }
}

/* One chunk of c required reductions: writes the gain reduction to gr and replaces each
 * history (req, bridge, avg, occupancy, env, gain delay; their lengths as given) and prev
 * ([fast, slow]) with their new values. Returns 0, or -1 when memory ran out (nothing
 * changed). */
int64_t mx_limiter_envelope(const double *req, int64_t c, double *req_h, int64_t n_req,
                            double *bridge_h, int64_t n_bridge, double *avg_h, double *occ_h,
                            int64_t n_avg, double *env_h, int64_t n_env, double *grd_h,
                            int64_t n_grd, double *prev, int64_t attack, double a_f,
                            double a_s, double tiny, double *gr)
{
    int64_t longest = n_req;
    if (n_bridge > longest) longest = n_bridge;
    if (n_avg > longest) longest = n_avg;
    if (n_env > longest) longest = n_env;
    if (n_grd > longest) longest = n_grd;
    longest += c;
    /* rj bj aj oj ej grj (their lengths), held bridged busy avg occ fast slow prod env
     * (c each), g h cs (scratch) */
    int64_t total = (n_req + n_bridge + 2 * n_avg + n_env + n_grd + 6 * c) + 9 * c +
                    3 * longest + 1;
    double *mem = malloc((size_t)total * sizeof(double));
    if (mem == NULL)
        return -1;
    double *rj = mem, *bj = rj + n_req + c, *aj = bj + n_bridge + c, *oj = aj + n_avg + c;
    double *ej = oj + n_avg + c, *grj = ej + n_env + c, *held = grj + n_grd + c;
    double *bridged = held + c, *busy = bridged + c, *avg = busy + c, *occ = avg + c;
    double *fast = occ + c, *slow = fast + c, *prod = slow + c, *env = prod + c;
    double *g = env + c, *h = g + longest, *cs = h + longest;

    memcpy(rj, req_h, (size_t)n_req * sizeof(double));
    memcpy(rj + n_req, req, (size_t)c * sizeof(double));
    run_max(rj, n_req + c, n_req + 1, held, g, h);
    memcpy(bj, bridge_h, (size_t)n_bridge * sizeof(double));
    memcpy(bj + n_bridge, held, (size_t)c * sizeof(double));
    run_max(bj, n_bridge + c, n_bridge + 1, bridged, g, h);
    for (int64_t j = 0; j < c; j++)
        busy[j] = bridged[j] > 0.0 ? 1.0 : 0.0;
    int64_t width = n_avg + 1;
    memcpy(aj, avg_h, (size_t)n_avg * sizeof(double));
    memcpy(aj + n_avg, bridged, (size_t)c * sizeof(double));
    memcpy(oj, occ_h, (size_t)n_avg * sizeof(double));
    memcpy(oj + n_avg, busy, (size_t)c * sizeof(double));
    run_box(aj, n_avg + c, width, (double)width, avg, cs);
    run_box(oj, n_avg + c, width, (double)width, occ, cs);
    run_decay(held, c, prev[0], a_f, tiny, fast);
    for (int64_t j = 0; j < c; j++)
        prod[j] = avg[j] * occ[j];
    run_decay(prod, c, prev[1], a_s, tiny, slow);
    for (int64_t j = 0; j < c; j++)  /* numpy.maximum, NaN passed on as numpy does */
        env[j] = (fast[j] >= slow[j] || isnan(fast[j])) ? fast[j] : slow[j];
    memcpy(ej, env_h, (size_t)n_env * sizeof(double));
    memcpy(ej + n_env, env, (size_t)c * sizeof(double));
    run_box(ej, n_env + c, n_env + 1, (double)attack, grj + n_grd, cs);
    memcpy(grj, grd_h, (size_t)n_grd * sizeof(double));
    if (c > 0) {
        prev[0] = fast[c - 1];
        prev[1] = slow[c - 1];
    }
    memcpy(gr, grj, (size_t)c * sizeof(double));
    memcpy(req_h, rj + c, (size_t)n_req * sizeof(double));
    memcpy(bridge_h, bj + c, (size_t)n_bridge * sizeof(double));
    memcpy(avg_h, aj + c, (size_t)n_avg * sizeof(double));
    memcpy(occ_h, oj + c, (size_t)n_avg * sizeof(double));
    memcpy(env_h, ej + c, (size_t)n_env * sizeof(double));
    memcpy(grd_h, grj + c, (size_t)n_grd * sizeof(double));
    free(mem);
    return 0;
}

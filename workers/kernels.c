/* Per-pixel compositing kernels for workers.kernels (loaded through ctypes).
 *
 * Each function does, pixel by pixel and in one pass, exactly the float32 operations the NumPy
 * reference in workers/kernels.py does over whole arrays, in the same order, so results are
 * bit-identical to it (built with -ffp-contract=off: no fused multiply-add, whose single
 * rounding would differ). The gain over NumPy is the missing full-frame temporaries: NumPy
 * writes and reads a 24 MB float frame for every step of a 1080p layer, these stream it once.
 *
 * Images are H x W x 3 float32 (or uint8), rows `stride` elements apart, so that a window of a
 * larger canvas can be passed without a copy. The Python module object exists only so that
 * setuptools builds and installs the library beside the package; it has no methods.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#ifdef __SSE__
#include <xmmintrin.h>
#endif

/* Bumped with every change of a function's signature or meaning: workers/kernels.py refuses a
 * library built from another version of this file (an editable install not rebuilt). */
int cr_abi(void) { return 10; }

/* AVX2 copies of the loops beside the baseline ones, chosen when the library loads (an ifunc):
 * a wheel built on one x86-64 runs on any. The results do not depend on which copy runs:
 * -ffp-contract=off keeps multiply and add separately rounded in both, and every operation
 * here is exactly rounded IEEE arithmetic. */
#if defined(__GNUC__) && defined(__x86_64__) && defined(__linux__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define CR_VECTOR __attribute__((target_clones("avx2", "default")))
#endif
#endif
#ifndef CR_VECTOR
#define CR_VECTOR
#endif
/* A loop shared by several kernels: inlined into each, so that it is compiled for each of their
 * copies (an out-of-line copy would be the baseline one only). */
#if defined(__GNUC__)
#define CR_INLINE static inline __attribute__((always_inline))
#else
#define CR_INLINE static inline
#endif

static inline float clip01(float v) {
    /* np.clip(v, 0, 1): NaN stays NaN (both comparisons false). */
    return v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v);
}

/* dst = float(src) * (1 / 255), n samples. */
CR_VECTOR void cr_to_float(const uint8_t *src, float *dst, Py_ssize_t n) {
    const float k = (float)(1.0 / 255.0);
    for (Py_ssize_t i = 0; i < n; i++) dst[i] = (float)src[i] * k;
}

/* dst = uint8(clip(src * 255 + 0.5, 0, 255)), n samples (truncation, as NumPy's astype). */
CR_VECTOR static void to_uint8_loop(const float *src, uint8_t *dst, Py_ssize_t n) {
    for (Py_ssize_t i = 0; i < n; i++) {
        float v = src[i] * 255.0f;
        v += 0.5f;
        v = v < 0.0f ? 0.0f : (v > 255.0f ? 255.0f : v);
        dst[i] = (uint8_t)v;
    }
}

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
/* to_uint8_loop with AVX2 by hand, 32 samples at a time: the compiler's copy of the loop masks
 * and packs each 8 samples separately (measured on the 2-core EPYC: a 1080p frame 1.0-1.3
 * against 1.6-1.7 ms). The same bits: the product and the sum are the same IEEE operations;
 * max(v, 0) then min(v, 255) is the loop's clip, and takes NaN to 0, which is what the loop's
 * truncation gives NaN on x86-64 (0x80000000, whose low byte is 0); the values are then whole
 * numbers in [0, 255], which the saturating packs keep as they are. */
__attribute__((target("avx2"))) static void to_uint8_avx2(const float *src, uint8_t *dst,
                                                          Py_ssize_t n) {
    const __m256 scale = _mm256_set1_ps(255.0f), half = _mm256_set1_ps(0.5f);
    const __m256 zero = _mm256_setzero_ps(), top = _mm256_set1_ps(255.0f);
    /* The packs work within 128-bit lanes: this puts the four groups of 8 back in order. */
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    Py_ssize_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m256i q[4];
        for (int j = 0; j < 4; j++) {
            __m256 v = _mm256_mul_ps(_mm256_loadu_ps(src + i + 8 * j), scale);
            v = _mm256_add_ps(v, half);
            v = _mm256_max_ps(v, zero); /* NaN (the first operand) -> the second: 0 */
            v = _mm256_min_ps(v, top);
            q[j] = _mm256_cvttps_epi32(v);
        }
        const __m256i lo = _mm256_packus_epi32(q[0], q[1]);
        const __m256i hi = _mm256_packus_epi32(q[2], q[3]);
        const __m256i bytes = _mm256_permutevar8x32_epi32(_mm256_packus_epi16(lo, hi), order);
        _mm256_storeu_si256((__m256i *)(dst + i), bytes);
    }
    to_uint8_loop(src + i, dst + i, n - i);
}
#define CR_AVX2_INTRINSICS 1
#endif

void cr_to_uint8(const float *src, uint8_t *dst, Py_ssize_t n) {
#ifdef CR_AVX2_INTRINSICS
    if (__builtin_cpu_supports("avx2")) {
        to_uint8_avx2(src, dst, n);
        return;
    }
#endif
    to_uint8_loop(src, dst, n);
}

/* dst = clip(src * gain[pixel], 0, 1): a per-pixel gain map (vignette). The gains of a block of
 * pixels are first spread to one per sample, so that the product is one straight loop the
 * compiler vectorises (an RGB triple per gain is a stride it does not). */
#define CR_BLOCK 64
CR_INLINE void gain_clip_block(const float *s, const float *gain, float *d, Py_ssize_t n) {
    float spread[3 * CR_BLOCK];
    for (Py_ssize_t p = 0; p < n; p++) {
        const float g = gain[p];
        spread[3 * p] = g;
        spread[3 * p + 1] = g;
        spread[3 * p + 2] = g;
    }
    for (Py_ssize_t i = 0; i < 3 * n; i++) d[i] = clip01(s[i] * spread[i]);
}
CR_VECTOR void cr_gain_clip(const float *src, const float *gain, float *dst, Py_ssize_t pixels) {
    for (Py_ssize_t p0 = 0; p0 < pixels; p0 += CR_BLOCK) {
        const Py_ssize_t n = pixels - p0 < CR_BLOCK ? pixels - p0 : CR_BLOCK;
        gain_clip_block(src + 3 * p0, gain + p0, dst + 3 * p0, n);
    }
}

/* dst = clip(src @ m.T + offset, 0, 1): a colour matrix (saturation, hue, contrast). The three
 * products are added left to right; NumPy's matrix product (BLAS) may order or fuse them
 * differently, so this one differs from `src @ m.T` by at most an ulp or two. */
CR_INLINE void affine_clip_run(const float *src, const float *m, float offset, float *dst,
                                   Py_ssize_t pixels) {
    const float m00 = m[0], m01 = m[1], m02 = m[2];
    const float m10 = m[3], m11 = m[4], m12 = m[5];
    const float m20 = m[6], m21 = m[7], m22 = m[8];
    for (Py_ssize_t p = 0; p < pixels; p++) {
        const float *s = src + 3 * p;
        float *d = dst + 3 * p;
        const float r = s[0], g = s[1], b = s[2];
        float v0 = r * m00 + g * m01;
        float v1 = r * m10 + g * m11;
        float v2 = r * m20 + g * m21;
        v0 = v0 + b * m02;
        v1 = v1 + b * m12;
        v2 = v2 + b * m22;
        d[0] = clip01(v0 + offset);
        d[1] = clip01(v1 + offset);
        d[2] = clip01(v2 + offset);
    }
}
CR_VECTOR void cr_affine_clip(const float *src, const float *m, float offset, float *dst,
                              Py_ssize_t pixels) {
    affine_clip_run(src, m, offset, dst, pixels);
}

#define CR_STEP_BLOCK (8 * CR_BLOCK)
/* cr_affine_clip and cr_gain_clip on a block held planar (R, G, B rows of CR_STEP_BLOCK): each
 * a straight loop over one plane, eight pixels to an AVX2 instruction. */
CR_INLINE void affine_clip_planar(const float *restrict in, const float *m, float offset,
                                  float *restrict out, Py_ssize_t n) {
    const float m00 = m[0], m01 = m[1], m02 = m[2];
    const float m10 = m[3], m11 = m[4], m12 = m[5];
    const float m20 = m[6], m21 = m[7], m22 = m[8];
    const float *r = in, *g = in + CR_STEP_BLOCK, *b = in + 2 * CR_STEP_BLOCK;
    float *o0 = out, *o1 = out + CR_STEP_BLOCK, *o2 = out + 2 * CR_STEP_BLOCK;
    for (Py_ssize_t p = 0; p < n; p++) {
        float v0 = r[p] * m00 + g[p] * m01;
        float v1 = r[p] * m10 + g[p] * m11;
        float v2 = r[p] * m20 + g[p] * m21;
        v0 = v0 + b[p] * m02;
        v1 = v1 + b[p] * m12;
        v2 = v2 + b[p] * m22;
        o0[p] = clip01(v0 + offset);
        o1[p] = clip01(v1 + offset);
        o2[p] = clip01(v2 + offset);
    }
}
CR_INLINE void gain_clip_planar(const float *restrict in, const float *restrict gain,
                                float *restrict out, Py_ssize_t n) {
    for (int c = 0; c < 3; c++) {
        const float *s = in + c * CR_STEP_BLOCK;
        float *d = out + c * CR_STEP_BLOCK;
        for (Py_ssize_t p = 0; p < n; p++) d[p] = clip01(s[p] * gain[p]);
    }
}

/* cr_to_float followed by a chain of cr_gain_clip (kinds[i] 0: gains[i] is the per-pixel gain
 * map) and cr_affine_clip steps (kinds[i] 1: params[10 i ..] the matrix by rows, then the
 * offset) in one pass: a block of pixels goes through every step while it is in the cache,
 * instead of each step streaming the whole 25 MB float frame out and back in. Each sample sees
 * the same operations in the same order as the separate calls, so the bits are theirs.
 * The steps go from one block buffer to the other, the last into dst: measured faster than
 * running them in place in dst (3.5 against 4.0 ms for a 1080p frame's float, gain, matrix).
 * With a colour matrix in the chain the block is split into planes as it is converted and
 * joined again as it is stored: over RGB triples the matrix needed shuffles and a gain map its
 * spread to three samples a pixel (measured: a 1080p frame's float, matrix and gain 2.0-2.2
 * against 2.6-2.7 ms; the matrix alone 1.5-1.6 against 1.9). */
CR_VECTOR void cr_to_float_steps(const uint8_t *src, float *dst, Py_ssize_t pixels, int steps,
                                 const int32_t *kinds, const float *const *gains,
                                 const float *params) {
    const float k = (float)(1.0 / 255.0);
    int matrices = 0;
    for (int j = 0; j < steps; j++) matrices |= kinds[j] != 0;
    float one[3 * CR_STEP_BLOCK], two[3 * CR_STEP_BLOCK];
    if (!matrices) {
        /* Gain maps alone stay interleaved: splitting and joining the planes costs more than
         * the one multiply a sample saves (measured: 1.1 against 1.45 ms for a 1080p frame). */
        for (Py_ssize_t p0 = 0; p0 < pixels; p0 += CR_STEP_BLOCK) {
            const Py_ssize_t n = pixels - p0 < CR_STEP_BLOCK ? pixels - p0 : CR_STEP_BLOCK;
            float *d = dst + 3 * p0;
            float *cur = steps ? one : d, *spare = two;
            for (Py_ssize_t i = 0; i < 3 * n; i++) cur[i] = (float)src[3 * p0 + i] * k;
            for (int j = 0; j < steps; j++) {
                float *out = j == steps - 1 ? d : spare;
                for (Py_ssize_t q = 0; q < n; q += CR_BLOCK) {
                    const Py_ssize_t m = n - q < CR_BLOCK ? n - q : CR_BLOCK;
                    gain_clip_block(cur + 3 * q, gains[j] + p0 + q, out + 3 * q, m);
                }
                spare = cur;
                cur = out;
            }
        }
        return;
    }
    for (Py_ssize_t p0 = 0; p0 < pixels; p0 += CR_STEP_BLOCK) {
        const Py_ssize_t n = pixels - p0 < CR_STEP_BLOCK ? pixels - p0 : CR_STEP_BLOCK;
        const uint8_t *s = src + 3 * p0;
        float *d = dst + 3 * p0;
        float *cur = one, *spare = two;
        for (Py_ssize_t p = 0; p < n; p++) {
            cur[p] = (float)s[3 * p] * k;
            cur[CR_STEP_BLOCK + p] = (float)s[3 * p + 1] * k;
            cur[2 * CR_STEP_BLOCK + p] = (float)s[3 * p + 2] * k;
        }
        for (int j = 0; j < steps; j++) {
            if (kinds[j] != 0) {
                affine_clip_planar(cur, params + 10 * j, params[10 * j + 9], spare, n);
            } else {
                /* The step's input is in [0, 1] (255 * k is 1.0f exactly; the steps clip) or
                 * NaN, which clip01(v * 1) leaves as it is: a block whose gains are all 1 (the
                 * middle of a vignette) skips the step, with the same bits. */
                const float *gain = gains[j] + p0;
                int ones = 1;
                for (Py_ssize_t p = 0; p < n; p++) ones &= gain[p] == 1.0f;
                if (ones) continue;
                gain_clip_planar(cur, gain, spare, n);
            }
            float *done = spare;
            spare = cur;
            cur = done;
        }
        for (Py_ssize_t p = 0; p < n; p++) {
            d[3 * p] = cur[p];
            d[3 * p + 1] = cur[CR_STEP_BLOCK + p];
            d[3 * p + 2] = cur[2 * CR_STEP_BLOCK + p];
        }
    }
}

/* dst += (src - dst) * a, where a = alpha[pixel] * opacity (alpha may be NULL: a = opacity).
 * `scale_alpha` says whether to multiply alpha by opacity at all (NumPy skips it at 1). */
CR_VECTOR void cr_blend(float *dst, Py_ssize_t dst_stride, const float *src, Py_ssize_t src_stride,
                        const float *alpha, Py_ssize_t alpha_stride, float opacity,
                        int scale_alpha, Py_ssize_t height, Py_ssize_t width) {
    for (Py_ssize_t y = 0; y < height; y++) {
        float *d = dst + y * dst_stride;
        const float *s = src + y * src_stride;
        if (!alpha) {
            /* One weight for the whole row: a straight loop over its samples. */
            for (Py_ssize_t i = 0; i < 3 * width; i++) {
                const float dv = d[i];
                d[i] = dv + (s[i] - dv) * opacity;
            }
            continue;
        }
        const float *al = alpha + y * alpha_stride;
        float spread[3 * CR_BLOCK];
        for (Py_ssize_t x0 = 0; x0 < width; x0 += CR_BLOCK) {
            const Py_ssize_t n = width - x0 < CR_BLOCK ? width - x0 : CR_BLOCK;
            int any = 0;
            for (Py_ssize_t x = 0; x < n; x++) {
                const float a = scale_alpha ? al[x0 + x] * opacity : al[x0 + x];
                any |= a != 0.0f;
                spread[3 * x] = a;
                spread[3 * x + 1] = a;
                spread[3 * x + 2] = a;
            }
            /* A transparent block is left alone: (s - d) * 0 + d == d for every finite d,
             * and most of a logo or a title's layer is transparent. */
            if (!any) continue;
            float *db = d + 3 * x0;
            const float *sb = s + 3 * x0;
            for (Py_ssize_t i = 0; i < 3 * n; i++) {
                const float dv = db[i];
                db[i] = dv + (sb[i] - dv) * spread[i];
            }
        }
    }
}

/* Per-pixel steps of cr_to_float_steps: how many, their kinds, gain maps and parameters. */
typedef struct {
    int count;
    const int32_t *kinds;
    const float *const *gains;
    const float *params;
} cr_steps;

/* rows x width pixels of an 8-bit picture (rows `stride` bytes apart) through cr_to_float_steps
 * into packed floats, its gain maps read from row `row` on (they are width pixels a row). */
static void float_rows(const uint8_t *src, Py_ssize_t stride, Py_ssize_t rows, Py_ssize_t width,
                       Py_ssize_t row, const cr_steps *steps, float *dst) {
    const float *shifted[64];
    const Py_ssize_t runs = stride == 3 * width ? 1 : rows;
    const Py_ssize_t run = stride == 3 * width ? rows : 1;
    for (Py_ssize_t r = 0; r < runs; r++) {
        for (int j = 0; j < steps->count && j < 64; j++)
            shifted[j] = steps->kinds[j] == 0 ? steps->gains[j] + (row + r) * width : NULL;
        cr_to_float_steps(src + r * stride, dst + 3 * r * width, run * width, steps->count,
                          steps->kinds, shifted, steps->params);
    }
}

/* One source row of cr_rgb_to_yuv420p: its samples split into planar R, G, B rows, then its
 * luma row and its horizontal pixel-pair sums, planar: R into pair[0 .. cw), G and B after it
 * (the last pixel pairs with itself when the width is odd). Split first, every loop after is a
 * straight or stride-2 one the compiler vectorises; over RGB triples, the pair sums were not
 * (measured: the whole conversion 1.1 against 2.0 ms a 1080p frame). */
CR_INLINE void yuv_row(const uint8_t *s, Py_ssize_t width, Py_ssize_t cw, const int32_t *k,
                       uint8_t *restrict planar, uint8_t *restrict luma, int32_t *restrict pair) {
    uint8_t *restrict pr = planar, *restrict pg = planar + width, *restrict pb = planar + 2 * width;
    for (Py_ssize_t x = 0; x < width; x++) {
        pr[x] = s[3 * x];
        pg[x] = s[3 * x + 1];
        pb[x] = s[3 * x + 2];
    }
    const int32_t yr = k[0], yg = k[1], yb = k[2];
    for (Py_ssize_t x = 0; x < width; x++) {
        const int32_t v = yr * pr[x] + yg * pg[x] + yb * pb[x];
        luma[x] = (uint8_t)((v + (16 << 16) + (1 << 15)) >> 16);
    }
    const Py_ssize_t even = width / 2;
    for (Py_ssize_t cx = 0; cx < even; cx++) pair[cx] = pr[2 * cx] + pr[2 * cx + 1];
    for (Py_ssize_t cx = 0; cx < even; cx++) pair[cw + cx] = pg[2 * cx] + pg[2 * cx + 1];
    for (Py_ssize_t cx = 0; cx < even; cx++) pair[2 * cw + cx] = pb[2 * cx] + pb[2 * cx + 1];
    if (even < cw) {
        pair[even] = 2 * pr[2 * even];
        pair[cw + even] = 2 * pg[2 * even];
        pair[2 * cw + even] = 2 * pb[2 * even];
    }
}

/* RGB24 to yuv420p, limited range, in 16-bit fixed point: k holds the nine coefficients
 * (Y from R, G, B; Cb; Cr) times 65536, range scaling included. Luma is per pixel; each chroma
 * sample weighs the 2 x 4 pixels around it, 1-3-3-1 down the rows and 1-1 across (swscale's
 * bilinear filter for this subsampling: its results are within one level of ours). Pixels past
 * an edge repeat the edge. The NumPy reference does the same integer arithmetic.
 * The rows come in order, each read once (yuv_feed): its luma and pair sums are made while it
 * is in the cache, and a chroma row is written as soon as the last row it weighs has come, so
 * that cr_composite can hand over each band of rows as it finishes (all integer arithmetic: the
 * bytes do not depend on how the rows are handed over).
 * scratch (15 x cw int32, then 3 x width bytes): four rows' pixel-pair sums, planar R, G, B
 * (a row is computed once and kept for the next chroma row, which needs two of the same rows),
 * then the weighted column sums R, G, B, each cw long, then the row being read, planar. */
typedef struct {
    Py_ssize_t height, width, cw, ch, next_cy;
    uint8_t *yp, *up, *vp;
    Py_ssize_t y_stride, u_stride, v_stride;
    const int32_t *k;
    int32_t *scratch;
} yuv_out;

CR_INLINE void yuv_chroma(yuv_out *o, Py_ssize_t cy) {
    const Py_ssize_t cw = o->cw;
    const int32_t *k = o->k;
    int32_t *sums = o->scratch + 12 * cw;
    const int32_t *sum_r = sums, *sum_g = sums + cw, *sum_b = sums + 2 * cw;
    const int32_t *rows[4];
    for (int r = 0; r < 4; r++) {
        Py_ssize_t row = 2 * cy - 1 + r;
        row = row < 0 ? 0 : (row >= o->height ? o->height - 1 : row);
        rows[r] = o->scratch + (row % 4) * 3 * cw;
    }
    for (Py_ssize_t i = 0; i < 3 * cw; i++)
        sums[i] = rows[0][i] + 3 * (rows[1][i] + rows[2][i]) + rows[3][i];
    uint8_t *du = o->up + cy * o->u_stride, *dv = o->vp + cy * o->v_stride;
    /* The sums weigh 16 pixels: 4 more bits to shift out. */
    for (Py_ssize_t cx = 0; cx < cw; cx++) {
        const int32_t u = k[3] * sum_r[cx] + k[4] * sum_g[cx] + k[5] * sum_b[cx];
        du[cx] = (uint8_t)((u + (128 << 20) + (1 << 19)) >> 20);
    }
    for (Py_ssize_t cx = 0; cx < cw; cx++) {
        const int32_t v = k[6] * sum_r[cx] + k[7] * sum_g[cx] + k[8] * sum_b[cx];
        dv[cx] = (uint8_t)((v + (128 << 20) + (1 << 19)) >> 20);
    }
}

/* `rows` source rows from row `row` on (the next in order), `stride` bytes apart: their luma,
 * and every chroma row whose four rows have all come (the ring of four pair sums holds them:
 * chroma row cy weighs rows 2cy-1 .. 2cy+2); after the last row, the chroma rows left. */
CR_INLINE void yuv_feed(yuv_out *o, const uint8_t *s, Py_ssize_t stride, Py_ssize_t row,
                        Py_ssize_t rows) {
    const Py_ssize_t cw = o->cw;
    uint8_t *planar = (uint8_t *)(o->scratch + 15 * cw);
    for (Py_ssize_t r = row; r < row + rows; r++) {
        yuv_row(s + (r - row) * stride, o->width, cw, o->k, planar, o->yp + r * o->y_stride,
                o->scratch + (r % 4) * 3 * cw);
        if (r % 2 == 0 && r >= 2) yuv_chroma(o, o->next_cy++);
    }
    if (row + rows == o->height)
        while (o->next_cy < o->ch) yuv_chroma(o, o->next_cy++);
}

/* Compiled for each copy of the loops (target_clones), as cr_rgb_to_yuv420p. */
CR_VECTOR static void yuv_rows(yuv_out *o, const uint8_t *s, Py_ssize_t stride, Py_ssize_t row,
                               Py_ssize_t rows) {
    yuv_feed(o, s, stride, row, rows);
}

static yuv_out yuv_planes(Py_ssize_t height, Py_ssize_t width, uint8_t *yp, Py_ssize_t y_stride,
                          uint8_t *up, Py_ssize_t u_stride, uint8_t *vp, Py_ssize_t v_stride,
                          const int32_t *k, int32_t *scratch) {
    yuv_out o = {height, width, (width + 1) / 2, (height + 1) / 2, 0, yp, up, vp,
                 y_stride, u_stride, v_stride, k, scratch};
    return o;
}

void cr_rgb_to_yuv420p(const uint8_t *rgb, Py_ssize_t rgb_stride, Py_ssize_t height,
                       Py_ssize_t width, uint8_t *yp, Py_ssize_t y_stride, uint8_t *up,
                       Py_ssize_t u_stride, uint8_t *vp, Py_ssize_t v_stride, const int32_t *k,
                       int32_t *scratch) {
    yuv_out o = yuv_planes(height, width, yp, y_stride, up, u_stride, vp, v_stride, k, scratch);
    yuv_rows(&o, rgb, rgb_stride, 0, height);
}

/* A whole frame's compositing in bands of rows: the bottom layer from 8 bits through its steps
 * (cr_to_float_steps), each layer above blended over it (a plain copy where it is opaque, else
 * cr_blend), then to 8 bits (cr_to_uint8), one band of `band_rows` rows at a time in `band`
 * (band_rows x width x 3 floats), so that the float canvas never goes out to memory: measured
 * as the render's largest stream of memory traffic (the canvas written, read and written by
 * each blend, read again to 8 bits). A layer may be 8 bits with steps too (srcs[i] not NULL):
 * its rows of the band go to float in `spare` (as large as `band`) just before they are
 * blended. Each sample sees the same operations in the same order as the separate calls, so
 * the bits are theirs (at most 64 steps a layer).
 * Layers are clipped to the canvas by the caller; geometry holds six values a layer: its rgb
 * row stride (float elements, or bytes of srcs[i]), alpha row stride, x, y, width, height.
 * modes: 0 copy (opaque), 1 blend with alpha or opacity, 2 the same with alpha scaled by
 * opacity (cr_blend's scale_alpha).
 * With yuv420p planes (yp not NULL), each band in 8 bits goes on to them (cr_rgb_to_yuv420p's
 * arithmetic, k and scratch as its) while it is in the cache, and `out` holds one band
 * (band_rows x width x 3 bytes) instead of the frame: the 8-bit RGB frame is neither written
 * out nor read back (the same bytes as cr_rgb_to_yuv420p of the frame: integer arithmetic on
 * the same 8-bit rows). */
void cr_composite(const uint8_t *src, Py_ssize_t height, Py_ssize_t width, const cr_steps *base,
                  int layers, const float *const *rgbs, const uint8_t *const *srcs,
                  const cr_steps *steps, const float *const *alphas, const Py_ssize_t *geometry,
                  const float *opacities, const int32_t *modes, float *band, float *spare,
                  Py_ssize_t band_rows, uint8_t *out, uint8_t *yp, Py_ssize_t y_stride,
                  uint8_t *up, Py_ssize_t u_stride, uint8_t *vp, Py_ssize_t v_stride,
                  const int32_t *k, int32_t *scratch) {
    yuv_out yuv = yuv_planes(height, width, yp, y_stride, up, u_stride, vp, v_stride, k, scratch);
    for (Py_ssize_t r0 = 0; r0 < height; r0 += band_rows) {
        const Py_ssize_t rows = height - r0 < band_rows ? height - r0 : band_rows;
        float_rows(src + 3 * r0 * width, 3 * width, rows, width, r0, base, band);
        for (int i = 0; i < layers; i++) {
            const Py_ssize_t *g = geometry + 6 * i;
            const Py_ssize_t rs = g[0], as = g[1], x = g[2], y = g[3], w = g[4], h = g[5];
            const Py_ssize_t top = y > r0 ? y : r0;
            const Py_ssize_t bottom = y + h < r0 + rows ? y + h : r0 + rows;
            if (top >= bottom || w <= 0) continue;
            float *d = band + (top - r0) * 3 * width + 3 * x;
            const float *s;
            Py_ssize_t s_stride = rs;
            if (srcs[i]) {
                float_rows(srcs[i] + (top - y) * rs, rs, bottom - top, w, top - y, steps + i,
                           spare);
                s = spare;
                s_stride = 3 * w;
            } else {
                s = rgbs[i] + (top - y) * rs;
            }
            if (modes[i] == 0) {
                for (Py_ssize_t r = 0; r < bottom - top; r++)
                    memcpy(d + r * 3 * width, s + r * s_stride, (size_t)(3 * w) * sizeof(float));
                continue;
            }
            const float *a = alphas[i] ? alphas[i] + (top - y) * as : NULL;
            cr_blend(d, 3 * width, s, s_stride, a, as, opacities[i], modes[i] == 2, bottom - top,
                     w);
        }
        if (yp == NULL) {
            cr_to_uint8(band, out + 3 * r0 * width, 3 * rows * width);
            continue;
        }
        cr_to_uint8(band, out, 3 * rows * width);
        yuv_rows(&yuv, out, 3 * width, r0, rows);
    }
}

/* HDR (PQ, HLG) or BT.2020 YUV to BT.709 SDR RGB24, the whole of workers/hdr.py's to_sdr in one
 * pass: the same float32 operations in the same order, the same tables, so the result is
 * bit-identical to its NumPy reference. Planes are uint16 samples (swscale's yuv444p16le), rows
 * `*_stride` elements apart; `out` is H x W x 3 uint8, rows `out_stride` bytes apart.
 *
 * k holds hdr.py's float32 constants (see hdr._kernel_constants): 0 the luma scale, 1-3 each
 * channel's offset, 4-6 its Cb and 7-9 its Cr weight (zero weights add +0.0: the same codes as
 * NumPy skipping them), 10-12 the HLG OOTF's luma weights, 13-21 the primaries matrix by rows,
 * 22-29 Hable's curve (A, C*B, D*E, B, D*F, E/F, hable(peak), the floor of the largest
 * component), 30 the gamma table's last index. `light` is the transfer's table by 16-bit code,
 * `gain` the HLG OOTF's by 16-bit square root of the scene luminance, `gamma` the 8-bit code
 * of each step of display light. transfer: 0 SDR (no tone map), 1 PQ, 2 HLG. */
#define CR_HDR_BLOCK 256

/* v = sqrt(v), n values: exactly rounded IEEE square roots, as NumPy's. sqrtf's loop is not
 * vectorised (it may set errno), so SSE's packed root where there is one. */
static inline void square_roots(float *v, Py_ssize_t n) {
    Py_ssize_t i = 0;
#ifdef __SSE__
    for (; i + 4 <= n; i += 4) _mm_storeu_ps(v + i, _mm_sqrt_ps(_mm_loadu_ps(v + i)));
#endif
    for (; i < n; i++) v[i] = sqrtf(v[i]);
}
CR_VECTOR void cr_hdr_to_sdr(const uint16_t *yp, Py_ssize_t y_stride, const uint16_t *up,
                             Py_ssize_t u_stride, const uint16_t *vp, Py_ssize_t v_stride,
                             Py_ssize_t height, Py_ssize_t width, const float *k,
                             const float *light, const float *gain, const uint8_t *gamma,
                             int transfer, int wide, uint8_t *out, Py_ssize_t out_stride) {
    float r[CR_HDR_BLOCK], g[CR_HDR_BLOCK], b[CR_HDR_BLOCK];
    int32_t ir[CR_HDR_BLOCK], ig[CR_HDR_BLOCK], ib[CR_HDR_BLOCK];
    const float ky = k[0];
    const float off_r = k[1], off_g = k[2], off_b = k[3];
    const float ku_r = k[4], ku_g = k[5], ku_b = k[6];
    const float kv_r = k[7], kv_g = k[8], kv_b = k[9];
    const float top = k[30];
    for (Py_ssize_t y = 0; y < height; y++) {
        const uint16_t *ys = yp + y * y_stride, *us = up + y * u_stride, *vs = vp + y * v_stride;
        uint8_t *d = out + y * out_stride;
        for (Py_ssize_t x0 = 0; x0 < width; x0 += CR_HDR_BLOCK) {
            const Py_ssize_t n = width - x0 < CR_HDR_BLOCK ? width - x0 : CR_HDR_BLOCK;
            /* YUV to 16-bit R'G'B' codes: clipped, truncated (hdr._codes). */
            for (Py_ssize_t i = 0; i < n; i++) {
                const float luma = (float)ys[x0 + i] * ky;
                const float u = (float)us[x0 + i], v = (float)vs[x0 + i];
                float cr = luma + off_r, cg = luma + off_g, cb = luma + off_b;
                cr = cr + u * ku_r;
                cg = cg + u * ku_g;
                cb = cb + u * ku_b;
                cr = cr + v * kv_r;
                cg = cg + v * kv_g;
                cb = cb + v * kv_b;
                ir[i] = (int32_t)(cr < 0.0f ? 0.0f : (cr > 65535.0f ? 65535.0f : cr));
                ig[i] = (int32_t)(cg < 0.0f ? 0.0f : (cg > 65535.0f ? 65535.0f : cg));
                ib[i] = (int32_t)(cb < 0.0f ? 0.0f : (cb > 65535.0f ? 65535.0f : cb));
            }
            for (Py_ssize_t i = 0; i < n; i++) {
                r[i] = light[ir[i]];
                g[i] = light[ig[i]];
                b[i] = light[ib[i]];
            }
            if (transfer == 2) {
                /* HLG's OOTF: the gain by the square root of the scene luminance (_hlg_ootf). */
                const float kr = k[10], kg = k[11], kb = k[12];
                float root[CR_HDR_BLOCK];
                for (Py_ssize_t i = 0; i < n; i++) {
                    float s = r[i] * kr;
                    s = s + g[i] * kg;
                    root[i] = s + b[i] * kb;
                }
                square_roots(root, n);
                for (Py_ssize_t i = 0; i < n; i++) {
                    float s = root[i] * 65535.0f;
                    s = s + 0.5f;
                    ir[i] = (int32_t)(s < 0.0f ? 0.0f : (s > 65535.0f ? 65535.0f : s));
                }
                for (Py_ssize_t i = 0; i < n; i++) {
                    const float f = gain[ir[i]];
                    r[i] = r[i] * f;
                    g[i] = g[i] * f;
                    b[i] = b[i] * f;
                }
            }
            if (wide) {
                const float *m = k + 13;
                for (Py_ssize_t i = 0; i < n; i++) {
                    const float rv = r[i], gv = g[i], bv = b[i];
                    float o0 = rv * m[0], o1 = rv * m[3], o2 = rv * m[6];
                    o0 = o0 + gv * m[1];
                    o1 = o1 + gv * m[4];
                    o2 = o2 + gv * m[7];
                    r[i] = o0 + bv * m[2];
                    g[i] = o1 + bv * m[5];
                    b[i] = o2 + bv * m[8];
                }
            }
            if (transfer != 0) {
                /* Hable on the largest component, the three scaled alike (_tone_map). */
                const float a = k[22], cb_ = k[23], de = k[24], bb = k[25], df = k[26];
                const float ef = k[27], peak = k[28], floor_ = k[29];
                for (Py_ssize_t i = 0; i < n; i++) {
                    float sig = r[i] > g[i] ? r[i] : g[i];
                    sig = sig > b[i] ? sig : b[i];
                    sig = sig > floor_ ? sig : floor_;
                    float num = sig * a;
                    num = num + cb_;
                    num = num * sig;
                    num = num + de;
                    float den = sig * a;
                    den = den + bb;
                    den = den * sig;
                    den = den + df;
                    num = num / den;
                    num = num - ef;
                    sig = sig * peak;
                    num = num / sig;
                    r[i] = r[i] * num;
                    g[i] = g[i] * num;
                    b[i] = b[i] * num;
                }
            }
            /* Display light to table steps: clipped, truncated (to_sdr's last loop). */
            for (Py_ssize_t i = 0; i < n; i++) {
                float vr = r[i] * top, vg = g[i] * top, vb = b[i] * top;
                vr = vr + 0.5f;
                vg = vg + 0.5f;
                vb = vb + 0.5f;
                ir[i] = (int32_t)(vr < 0.0f ? 0.0f : (vr > top ? top : vr));
                ig[i] = (int32_t)(vg < 0.0f ? 0.0f : (vg > top ? top : vg));
                ib[i] = (int32_t)(vb < 0.0f ? 0.0f : (vb > top ? top : vb));
            }
            uint8_t *db = d + 3 * x0;
            for (Py_ssize_t i = 0; i < n; i++) {
                db[3 * i] = gamma[ir[i]];
                db[3 * i + 1] = gamma[ig[i]];
                db[3 * i + 2] = gamma[ib[i]];
            }
        }
    }
}

static struct PyModuleDef kernels_module = {
    PyModuleDef_HEAD_INIT, "_kernels", "C kernels loaded through ctypes by workers.kernels.", -1,
    NULL, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__kernels(void) { return PyModule_Create(&kernels_module); }

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
#include <stdint.h>

/* Bumped with every change of a function's signature or meaning: workers/kernels.py refuses a
 * library built from another version of this file (an editable install not rebuilt). */
int cr_abi(void) { return 2; }

static inline float clip01(float v) {
    /* np.clip(v, 0, 1): NaN stays NaN (both comparisons false). */
    return v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v);
}

/* dst = float(src) * (1 / 255), n samples. */
void cr_to_float(const uint8_t *src, float *dst, Py_ssize_t n) {
    const float k = (float)(1.0 / 255.0);
    for (Py_ssize_t i = 0; i < n; i++) dst[i] = (float)src[i] * k;
}

/* dst = uint8(clip(src * 255 + 0.5, 0, 255)), n samples (truncation, as NumPy's astype). */
void cr_to_uint8(const float *src, uint8_t *dst, Py_ssize_t n) {
    for (Py_ssize_t i = 0; i < n; i++) {
        float v = src[i] * 255.0f;
        v += 0.5f;
        v = v < 0.0f ? 0.0f : (v > 255.0f ? 255.0f : v);
        dst[i] = (uint8_t)v;
    }
}

/* dst = clip(src * gain[pixel], 0, 1): a per-pixel gain map (vignette). */
void cr_gain_clip(const float *src, const float *gain, float *dst, Py_ssize_t pixels) {
    for (Py_ssize_t p = 0; p < pixels; p++) {
        const float g = gain[p];
        const float *s = src + 3 * p;
        float *d = dst + 3 * p;
        d[0] = clip01(s[0] * g);
        d[1] = clip01(s[1] * g);
        d[2] = clip01(s[2] * g);
    }
}

/* dst = clip(src @ m.T + offset, 0, 1): a colour matrix (saturation, hue, contrast). The three
 * products are added left to right; NumPy's matrix product (BLAS) may order or fuse them
 * differently, so this one differs from `src @ m.T` by at most an ulp or two. */
void cr_affine_clip(const float *src, const float *m, float offset, float *dst,
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

/* dst += (src - dst) * a, where a = alpha[pixel] * opacity (alpha may be NULL: a = opacity).
 * `scale_alpha` says whether to multiply alpha by opacity at all (NumPy skips it at 1). */
void cr_blend(float *dst, Py_ssize_t dst_stride, const float *src, Py_ssize_t src_stride,
              const float *alpha, Py_ssize_t alpha_stride, float opacity, int scale_alpha,
              Py_ssize_t height, Py_ssize_t width) {
    for (Py_ssize_t y = 0; y < height; y++) {
        float *d = dst + y * dst_stride;
        const float *s = src + y * src_stride;
        const float *al = alpha ? alpha + y * alpha_stride : NULL;
        for (Py_ssize_t x = 0; x < width; x++) {
            float a = opacity;
            if (al) {
                a = scale_alpha ? al[x] * opacity : al[x];
                if (a == 0.0f) continue; /* (s - d) * 0 + d == d for every finite d */
            }
            for (int c = 0; c < 3; c++) {
                const float dv = d[3 * x + c];
                const float t = (s[3 * x + c] - dv) * a;
                d[3 * x + c] = dv + t;
            }
        }
    }
}

static struct PyModuleDef kernels_module = {
    PyModuleDef_HEAD_INIT, "_kernels", "C kernels loaded through ctypes by workers.kernels.", -1,
    NULL, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__kernels(void) { return PyModule_Create(&kernels_module); }

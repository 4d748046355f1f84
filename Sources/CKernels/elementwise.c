#include "ckernels.h"
#include "vector_math.h"
#include <stdint.h>
#include <string.h>

// erf as x P(x^2) / Q(x^2) on [-4, 4]; |erf| is 1 to float precision beyond.
static inline float erf_approx(float x) {
    float xc = x < -4.0f ? -4.0f : (x > 4.0f ? 4.0f : x);
    float x2 = xc * xc;
    float p = -2.72614225801306e-10f;
    p = p * x2 + 2.77068142495902e-08f;
    p = p * x2 - 2.10102402082508e-06f;
    p = p * x2 - 5.69250639462346e-05f;
    p = p * x2 - 7.34990630326855e-04f;
    p = p * x2 - 2.95459980854025e-03f;
    p = p * x2 - 1.60960333262415e-02f;
    float q = -1.45660718464996e-05f;
    q = q * x2 - 2.13374055278905e-04f;
    q = q * x2 - 1.68282697438203e-03f;
    q = q * x2 - 7.37332916720468e-03f;
    q = q * x2 - 1.42647390514189e-02f;
    return xc * p / q;
}

VECTOR_CLONES void iba_exp(float *out, const float *in, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = exp_approx(in[i]);
}

VECTOR_CLONES void iba_erf(float *out, const float *in, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = erf_approx(in[i]);
}

VECTOR_CLONES void iba_gelu_forward(float *out, const float *in, size_t n) {
    for (size_t i = 0; i < n; i++) {
        float x = in[i];
        out[i] = 0.5f * x * (1.0f + erf_approx(x * 0.70710678118654752f));
    }
}

VECTOR_CLONES void iba_gelu_backward(float *dinp, const float *inp, const float *dout, size_t n) {
    for (size_t i = 0; i < n; i++) {
        float x = inp[i];
        float cdf = 0.5f * (1.0f + erf_approx(x * 0.70710678118654752f));
        float pdf = exp_approx(-0.5f * x * x) * 0.3989422804014327f;
        dinp[i] += dout[i] * (cdf + x * pdf);
    }
}

VECTOR_CLONES void iba_softmax_rows(float *p, size_t rows, size_t n, float scale) {
    for (size_t r = 0; r < rows; r++) {
        float *row = p + r * n;
        // max of scale * x, for scale > 0 (the attention's 1/sqrt(D))
        float m = max_lanes(row, n) * scale;
        for (size_t j = 0; j < n; j++) row[j] = exp_approx(row[j] * scale - m);
        float inverse = 1.0f / sum_lanes(row, n);
        for (size_t j = 0; j < n; j++) row[j] *= inverse;
    }
}

VECTOR_CLONES void iba_softmax_backward_rows(float *d, const float *p, size_t rows, size_t n, float scale) {
    for (size_t r = 0; r < rows; r++) {
        float *dr = d + r * n;
        const float *pr = p + r * n;
        float dot = dot_lanes(pr, dr, n);
        for (size_t j = 0; j < n; j++) dr[j] = pr[j] * (dr[j] - dot) * scale;
    }
}

// Round to nearest even, as oneDNN and PyTorch convert; NaN stays a (quiet) NaN.
VECTOR_CLONES void iba_f32_to_bf16(uint16_t *out, const float *in, size_t n) {
    for (size_t i = 0; i < n; i++) {
        uint32_t bits;
        memcpy(&bits, &in[i], sizeof bits);
        uint32_t rounded = bits + 0x7FFFu + ((bits >> 16) & 1u);
        uint32_t nan = (bits & 0x7FFFFFFFu) > 0x7F800000u;
        out[i] = nan ? (uint16_t)((bits >> 16) | 0x40u) : (uint16_t)(rounded >> 16);
    }
}

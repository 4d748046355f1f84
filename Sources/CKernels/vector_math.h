// Inline vector maths shared by the C kernels (not exported to Swift): the exp approximation, fixed-order
// row reductions, and the AVX-512 / AVX2 clones each exported loop is compiled for.
#ifndef IBA_VECTOR_MATH_H
#define IBA_VECTOR_MATH_H
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) && defined(__clang__) && defined(IBA_AVX2_ONLY)
// A build that stands in for a CPU without AVX-512 (scripts/bench.sh's PyTorch rows: -Xcc -DIBA_AVX2_ONLY).
#define VECTOR_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#elif defined(__x86_64__) && defined(__clang__)
#define VECTOR_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define VECTOR_CLONES
#endif

// exp by x = k ln2 + r, |r| <= ln2/2, degree-7 Taylor polynomial, 2^k from exponent bits.
static inline float exp_approx(float x) {
    float xc = x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x);
    float k = __builtin_rintf(xc * 1.44269504088896341f);
    float r = xc - k * 0.693145751953125f;
    r = r - k * 1.428606765330187045e-06f;
    float p = 1.0f / 5040.0f;
    p = p * r + 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    int32_t bits = ((int32_t)k + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    float result = p * scale;
    return x < -87.0f ? 0.0f : result;
}

// Row reductions in 16 interleaved partial sums: a fixed order (rows come out the same in any chunk of any
// thread) that the compiler can vectorise, where a single running sum stays scalar.
enum { lanes = 16 };

static inline __attribute__((always_inline)) float sum_lanes(const float *x, size_t n) {
    float part[lanes] = {0};
    size_t j = 0;
    for (; j + lanes <= n; j += lanes)
        for (int l = 0; l < lanes; l++) part[l] += x[j + l];
    for (int l = 0; j < n; j++, l++) part[l] += x[j];
    float sum = 0;
    for (int l = 0; l < lanes; l++) sum += part[l];
    return sum;
}

static inline __attribute__((always_inline)) float dot_lanes(const float *x, const float *y, size_t n) {
    float part[lanes] = {0};
    size_t j = 0;
    for (; j + lanes <= n; j += lanes)
        for (int l = 0; l < lanes; l++) part[l] += x[j + l] * y[j + l];
    for (int l = 0; j < n; j++, l++) part[l] += x[j] * y[j];
    float sum = 0;
    for (int l = 0; l < lanes; l++) sum += part[l];
    return sum;
}

static inline __attribute__((always_inline)) float max_lanes(const float *x, size_t n) {
    float part[lanes];
    for (int l = 0; l < lanes; l++) part[l] = -3.402823466e38f;
    size_t j = 0;
    for (; j + lanes <= n; j += lanes)
        for (int l = 0; l < lanes; l++) part[l] = x[j + l] > part[l] ? x[j + l] : part[l];
    for (int l = 0; j < n; j++, l++) part[l] = x[j] > part[l] ? x[j] : part[l];
    float m = part[0];
    for (int l = 1; l < lanes; l++) m = part[l] > m ? part[l] : m;
    return m;
}

#endif

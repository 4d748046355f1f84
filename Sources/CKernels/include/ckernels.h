// Elementwise kernels in C: clang vectorises these loops (AVX-512 / AVX2 clones chosen at load time),
// where Swift's generic SIMD helpers (clamp, rounding conversions) compile to scalar code.
#ifndef IBA_CKERNELS_H
#define IBA_CKERNELS_H
#include <stddef.h>
#include <stdint.h>

/// out[i] = exp(in[i]) (about 1e-7 relative error; 0 below -87).
void iba_exp(float *out, const float *in, size_t n);
/// out[i] = erf(in[i]) (about 3 float ulps).
void iba_erf(float *out, const float *in, size_t n);
/// out[i] = 0.5 x (1 + erf(x / sqrt 2)).
void iba_gelu_forward(float *out, const float *in, size_t n);
/// dinp[i] += dout[i] * GELU'(inp[i]).
void iba_gelu_backward(float *dinp, const float *inp, const float *dout, size_t n);
/// Each of `rows` rows of length n: p = softmax(scale * p) in place.
void iba_softmax_rows(float *p, size_t rows, size_t n, float scale);
/// Softmax backward in place on each row: d = p * (d - sum(p * d)) * scale.
void iba_softmax_backward_rows(float *d, const float *p, size_t rows, size_t n, float scale);

/// Attention for one (sequence, head), fused (attention.c): q and out have m rows, k and v n rows, each `ld` floats
/// apart, head size d <= 64; p (m, n) = softmax(scale q k^T), kept; with `mask` (m, n) non-NULL dropped (m, n) =
/// p * mask and out = dropped v, else out = p v. Returns -1 (nothing written) when d is out of range.
int iba_attention_forward(float *out, float *p, float *dropped, const float *mask, const float *q, const float *k,
                          const float *v, long m, long n, long d, long ld, float scale);
/// Its backward: dq (m rows), dk, dv (n rows) += ..., from dout (m rows) and the forward's p (and dropped, mask);
/// ds (m, n) is scratch. Returns -1 (nothing written) when d is out of range.
int iba_attention_backward(float *dq, float *dk, float *dv, float *ds, const float *dout, const float *p,
                           const float *dropped, const float *mask, const float *q, const float *k, const float *v,
                           long m, long n, long d, long ld, float scale);

/// LayerNorm of each row (R,C): out = (inp - mean) * rstd * gamma + beta; mean and rstd (R) kept when non-NULL.
void iba_layernorm_forward(float *out, float *mean, float *rstd, const float *inp, const float *gamma,
                           const float *beta, size_t rows, size_t channels, float eps);
/// LayerNorm backward to the input of each row: dinp (R,C) += ... from dout, the input and the forward's mean, rstd.
void iba_layernorm_backward_input(float *dinp, const float *dout, const float *inp, const float *gamma,
                                  const float *mean, const float *rstd, size_t rows, size_t channels);

/// body(context, i) for i in 0..<items on `threads` threads of libgomp's pool (inline with one), items taken in
/// turn; returns when all are done.
void iba_parallel_for(long items, int threads, void (*body)(void *context, long item), void *context);
/// Zeroed memory, 64-byte aligned; from 2 MiB on, mapped pages (zero until first written). Free with iba_deallocate and the same size.
void *iba_allocate_zeroed(size_t bytes);
void iba_deallocate(void *pointer, size_t bytes);

/// C[M,N] = alpha op(A) op(B) + beta C (row-major, leading dimensions) on oneDNN with `threads` OpenMP
/// threads; 0 on success, non-zero if oneDNN refused (the caller then falls back to OpenBLAS).
int iba_onednn_sgemm(int trans_a, int trans_b, long m, long n, long k, float alpha, const float *a, long lda,
                     const float *b, long ldb, float beta, float *c, long ldc, int threads);
/// The same with bf16 A and B (raw bits, uint16), f32 accumulation and f32 C.
int iba_onednn_gemm_bf16(int trans_a, int trans_b, long m, long n, long k, float alpha, const uint16_t *a, long lda,
                         const uint16_t *b, long ldb, float beta, float *c, long ldc, int threads);
/// 1 when oneDNN runs bf16 on native instructions on this CPU (AVX512_BF16 or AMX), else 0.
int iba_onednn_bf16_native(void);
/// 1 when oneDNN runs its AVX-512 kernels on this CPU (where it outpaces OpenBLAS), else 0.
int iba_onednn_avx512(void);
/// oneDNN's effective instruction set (`DNNL_MAX_CPU_ISA` caps it), e.g. "avx512_core_bf16", for benchmark logs.
const char *iba_onednn_isa_name(void);
/// out[i] = in[i] rounded to bfloat16 (nearest even), as raw bits.
void iba_f32_to_bf16(uint16_t *out, const float *in, size_t n);

#endif

// GEMM on oneDNN (Debian's libdnnl): its AVX-512 matmul kernels run 1.5-2x the throughput of OpenBLAS
// on an AVX-512 CPU (on AVX2 alone OpenBLAS is as fast or faster: see GEMMBackend.preferred). oneDNN
// caches primitives by shape, so a call costs ~4 us beyond the arithmetic. One engine per process, one
// stream per thread (streams are not thread-safe).
#include "ckernels.h"
#include <dnnl.h>
// From libgomp (omp.h is not on the Swift toolchain's include path): threads of the next parallel regions of this thread.
void omp_set_num_threads(int);
int omp_get_max_threads(void);
#include <pthread.h>

static dnnl_engine_t engine;
static pthread_once_t engine_once = PTHREAD_ONCE_INIT;
static _Thread_local dnnl_stream_t stream;

static void create_engine(void) {
    if (dnnl_engine_create(&engine, dnnl_cpu, 0) != dnnl_success) engine = NULL;
}

// C (f32) = alpha op(A) op(B) + beta C with A and B of type `input` (f32, or bf16 with f32 accumulation),
// on the OpenMP threads the calling thread has set.
static int onednn_gemm_body(dnnl_data_type_t input, int trans_a, int trans_b, long m, long n, long k, float alpha, const void *a,
                            long lda, const void *b, long ldb, float beta, float *c, long ldc) {
    pthread_once(&engine_once, create_engine);
    if (!engine) return 1;
    if (!stream && dnnl_stream_create(&stream, engine, dnnl_stream_default_flags) != dnnl_success) { stream = NULL; return 2; }
    dnnl_memory_desc_t ad, bd, cd;
    dnnl_dims_t da = {m, k}, db = {k, n}, dc = {m, n};
    dnnl_dims_t sa = {trans_a ? 1 : lda, trans_a ? lda : 1};
    dnnl_dims_t sb = {trans_b ? 1 : ldb, trans_b ? ldb : 1};
    dnnl_dims_t sc = {ldc, 1};
    if (dnnl_memory_desc_init_by_strides(&ad, 2, da, input, sa) || dnnl_memory_desc_init_by_strides(&bd, 2, db, input, sb)
        || dnnl_memory_desc_init_by_strides(&cd, 2, dc, dnnl_f32, sc)) return 3;
    dnnl_matmul_desc_t md;
    if (dnnl_matmul_desc_init(&md, &ad, &bd, NULL, &cd)) return 4;
    dnnl_primitive_attr_t attr;
    if (dnnl_primitive_attr_create(&attr)) return 5;
    dnnl_post_ops_t post_ops = NULL;
    int bad = 0;
    if (alpha != 1.0f) bad |= dnnl_primitive_attr_set_output_scales(attr, 1, 0, &alpha) != dnnl_success;
    if (beta != 0.0f) {
        bad |= dnnl_post_ops_create(&post_ops) != dnnl_success;
        if (!bad) bad |= dnnl_post_ops_append_sum(post_ops, beta) != dnnl_success;
        if (!bad) bad |= dnnl_primitive_attr_set_post_ops(attr, post_ops) != dnnl_success;
    }
    dnnl_primitive_desc_t pd = NULL;
    if (!bad) bad = dnnl_primitive_desc_create(&pd, &md, attr, engine, NULL) != dnnl_success;
    dnnl_primitive_attr_destroy(attr);
    if (post_ops) dnnl_post_ops_destroy(post_ops);
    if (bad) return 6;
    dnnl_primitive_t primitive;
    dnnl_status_t status = dnnl_primitive_create(&primitive, pd);
    dnnl_primitive_desc_destroy(pd);
    if (status) return 7;
    dnnl_memory_t ma = NULL, mb = NULL, mc = NULL;
    status = dnnl_memory_create(&ma, &ad, engine, (void *)a);
    if (!status) status = dnnl_memory_create(&mb, &bd, engine, (void *)b);
    if (!status) status = dnnl_memory_create(&mc, &cd, engine, c);
    if (!status) {
        dnnl_exec_arg_t args[3] = {{DNNL_ARG_SRC, ma}, {DNNL_ARG_WEIGHTS, mb}, {DNNL_ARG_DST, mc}};
        status = dnnl_primitive_execute(primitive, stream, 3, args);
        if (!status) status = dnnl_stream_wait(stream);
    }
    if (ma) dnnl_memory_destroy(ma);
    if (mb) dnnl_memory_destroy(mb);
    if (mc) dnnl_memory_destroy(mc);
    dnnl_primitive_destroy(primitive);
    return status ? 8 : 0;
}

// The same on `threads` threads: the calling thread's OpenMP setting is restored afterwards.
static int onednn_gemm(dnnl_data_type_t input, int trans_a, int trans_b, long m, long n, long k, float alpha, const void *a,
                       long lda, const void *b, long ldb, float beta, float *c, long ldc, int threads) {
    int previous = omp_get_max_threads();
    omp_set_num_threads(threads > 0 ? threads : 1);
    int status = onednn_gemm_body(input, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    omp_set_num_threads(previous);
    return status;
}

int iba_onednn_sgemm(int trans_a, int trans_b, long m, long n, long k, float alpha, const float *a, long lda,
                     const float *b, long ldb, float beta, float *c, long ldc, int threads) {
    return onednn_gemm(dnnl_f32, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, threads);
}

int iba_onednn_gemm_bf16(int trans_a, int trans_b, long m, long n, long k, float alpha, const uint16_t *a, long lda,
                         const uint16_t *b, long ldb, float beta, float *c, long ldc, int threads) {
    return onednn_gemm(dnnl_bf16, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, threads);
}

// oneDNN runs bf16 matmuls on any AVX-512 CPU, but only with native bf16 instructions (AVX512_BF16 or AMX)
// are they faster than f32; elsewhere the emulation is slower, so the option is refused.
int iba_onednn_bf16_native(void) {
    dnnl_cpu_isa_t isa = dnnl_get_effective_cpu_isa();
    return (isa & dnnl_cpu_isa_avx512_core_bf16) == dnnl_cpu_isa_avx512_core_bf16;
}

int iba_onednn_avx512(void) {
    dnnl_cpu_isa_t isa = dnnl_get_effective_cpu_isa();
    return (isa & dnnl_cpu_isa_avx512_core) == dnnl_cpu_isa_avx512_core;
}

const char *iba_onednn_isa_name(void) {
    switch (dnnl_get_effective_cpu_isa()) {
    case dnnl_cpu_isa_sse41: return "sse41";
    case dnnl_cpu_isa_avx: return "avx";
    case dnnl_cpu_isa_avx2: return "avx2";
    case dnnl_cpu_isa_avx2_vnni: return "avx2_vnni";
    case dnnl_cpu_isa_avx512_core: return "avx512_core";
    case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni";
    case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16";
    case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx";
    default: return "other";
    }
}

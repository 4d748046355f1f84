// Fused attention for one (sequence, head): the scores, softmax, dropout and P V (and the backward's five
// products) in plain loops, where the sgemm path makes 2 (forward) or 4 (backward) library calls per head whose
// set-up outweighs the arithmetic at head size 32 and a hundred tokens.
// Rows of q, k, v, out and their gradients are `ld` floats apart (the packed (R, C) activations), each head
// D = d consecutive columns; probabilities and their gradients are dense (m, n).
#include "ckernels.h"
#include "vector_math.h"

// Keys are taken key_tile at a time, transposed into a stack tile (max_head x key_tile floats, 16 KiB): the
// score loop then runs along keys, the vector direction, with the key_tile sums held in registers. Sums are
// zeroed by loops over the used part (an initialiser zeroes the whole array, a memset call per block).
enum { key_tile = 64, max_head = 64, max_block = 4 };

#define INLINE static inline __attribute__((always_inline))

// Loop blocking per instruction set, chosen by timing MiniLM's shapes on an AMD EPYC (Zen 4; AVX2 as an
// x86-64-v3 build of the same code): with 32 vector registers (clang's x86-64-v4 code uses 256-bit ones; 512-bit
// measured no faster) 4 rows x D = 32 sums and 2 rows x 64 keys; with 16, half as many rows so the sums stay in
// registers.
struct blocking { long tile, score_rows, product_rows; };

// product_rows is for D = 32; the same number of sums (registers) at other head sizes.
INLINE long product_rows(struct blocking b, long D) {
    long rows = b.product_rows * 32 / D;
    return rows < 1 ? 1 : (rows > max_block ? max_block : rows);
}

// s[:, j0 ..< j0 + width] = scale a b[j0 ..< j0 + width]^T for one tile of keys (width <= tile), `block` rows at a time.
INLINE void score_tile(float *s, const float *a, const float *b, long m, long n, long j0, long width, long D, long ld,
                       float scale, long tile, long block) {
    float bt[max_head * key_tile];
    for (long jj = 0; jj < width; jj++)
        for (long e = 0; e < D; e++) bt[e * tile + jj] = b[(j0 + jj) * ld + e];
    for (long e = 0; e < D; e++)
        for (long jj = width; jj < tile; jj++) bt[e * tile + jj] = 0;
    long i = 0;
    for (; i + block <= m; i += block) {
        // The next block's rows of a, `ld` apart, are no stream the hardware prefetcher follows.
        for (long r = 0; r < block && i + block + r < m; r++)
            for (long e = 0; e < D; e += 16) __builtin_prefetch(a + (i + block + r) * ld + e);
        float acc[max_block][key_tile];
        for (long r = 0; r < block; r++)
            for (long jj = 0; jj < tile; jj++) acc[r][jj] = 0;
        for (long e = 0; e < D; e++)
            for (long r = 0; r < block; r++) {
                float x = a[(i + r) * ld + e];
                for (long jj = 0; jj < tile; jj++) acc[r][jj] += x * bt[e * tile + jj];
            }
        for (long r = 0; r < block; r++)
            for (long jj = 0; jj < width; jj++) s[(i + r) * n + j0 + jj] = acc[r][jj] * scale;
    }
    for (; i < m; i++) {
        float acc[key_tile];
        for (long jj = 0; jj < tile; jj++) acc[jj] = 0;
        for (long e = 0; e < D; e++)
            for (long jj = 0; jj < tile; jj++) acc[jj] += a[i * ld + e] * bt[e * tile + jj];
        for (long jj = 0; jj < width; jj++) s[i * n + j0 + jj] = acc[jj] * scale;
    }
}

// s (m, n) = scale a b^T: a (m rows), b (n rows), D columns each. Keys `tile` at a time; the last few in a tile of
// 16 or 32 (20 tokens in a tile of 64 would waste 70% of the arithmetic).
INLINE void scores(float *s, const float *a, const float *b, long m, long n, long D, long ld, float scale, long tile,
                   long block) {
    long j0 = 0;
    for (; j0 + tile <= n; j0 += tile) score_tile(s, a, b, m, n, j0, tile, D, ld, scale, tile, block);
    long rest = n - j0;
    if (rest == 0) return;
    if (rest <= 16) score_tile(s, a, b, m, n, j0, rest, D, ld, scale, 16, block);
    else if (rest <= 32 && tile > 32) score_tile(s, a, b, m, n, j0, rest, D, ld, scale, 32, block);
    else score_tile(s, a, b, m, n, j0, rest, D, ld, scale, tile, block);
}

// out (m rows, stride ldo) += w b: w (m, n, stride ldw), b (n rows, stride ldb), D columns. `block` rows at a time
// share each row of b and give the FMAs independent sums to interleave (one row's D/16 sums would wait on each
// other's latency).
INLINE void add_product_rows(float *out, long ldo, const float *w, long ldw, const float *b, long ldb, long m, long n,
                             long D, long block) {
    long i = 0;
    for (; i + block <= m; i += block) {
        float acc[max_block][max_head];
        for (long r = 0; r < block; r++)
            for (long e = 0; e < D; e++) acc[r][e] = 0;
        for (long j = 0; j < n; j++) {
            const float *bj = b + j * ldb;
            for (long r = 0; r < block; r++) {
                float x = w[(i + r) * ldw + j];
                for (long e = 0; e < D; e++) acc[r][e] += x * bj[e];
            }
        }
        for (long r = 0; r < block; r++)
            for (long e = 0; e < D; e++) out[(i + r) * ldo + e] += acc[r][e];
    }
    for (; i < m; i++) {
        float acc[max_head];
        for (long e = 0; e < D; e++) acc[e] = 0;
        for (long j = 0; j < n; j++)
            for (long e = 0; e < D; e++) acc[e] += w[i * ldw + j] * b[j * ldb + e];
        for (long e = 0; e < D; e++) out[i * ldo + e] += acc[e];
    }
}

// out (n rows, stride ldo) += w^T b: w (m, n, stride ldw), b (m rows, stride ldb), D columns; `block` output rows
// at a time, as above.
INLINE void add_transposed_product_rows(float *out, long ldo, const float *w, long ldw, const float *b, long ldb, long m,
                                        long n, long D, long block) {
    long j = 0;
    for (; j + block <= n; j += block) {
        float acc[max_block][max_head];
        for (long r = 0; r < block; r++)
            for (long e = 0; e < D; e++) acc[r][e] = 0;
        for (long i = 0; i < m; i++) {
            const float *bi = b + i * ldb;
            for (long r = 0; r < block; r++) {
                float x = w[i * ldw + j + r];
                for (long e = 0; e < D; e++) acc[r][e] += x * bi[e];
            }
        }
        for (long r = 0; r < block; r++)
            for (long e = 0; e < D; e++) out[(j + r) * ldo + e] += acc[r][e];
    }
    for (; j < n; j++) {
        float acc[max_head];
        for (long e = 0; e < D; e++) acc[e] = 0;
        for (long i = 0; i < m; i++)
            for (long e = 0; e < D; e++) acc[e] += w[i * ldw + j] * b[i * ldb + e];
        for (long e = 0; e < D; e++) out[j * ldo + e] += acc[e];
    }
}

// The head's rows of b are `ld` floats apart, D of them used: re-read once per row block, they missed the cache
// (10 sequences of 128 tokens ran at half the speed of one). So b is copied key_tile rows at a time into a dense
// stack tile first (prefetched a few rows ahead, as the score rows are), unless there are too few rows of w to repay
// the copy.
enum { pack_min_rows = 8 };

INLINE void pack_rows(float *packed, const float *b, long rows, long D, long ld) {
    for (long r = 0; r < rows; r++) {
        if (r + 8 < rows)
            for (long e = 0; e < D; e += 16) __builtin_prefetch(b + (r + 8) * ld + e);
        for (long e = 0; e < D; e++) packed[r * D + e] = b[r * ld + e];
    }
}

// out (m rows) += w b: w (m, n), b (n rows), D columns.
INLINE void add_product(float *out, const float *w, const float *b, long m, long n, long D, long ld, long block) {
    if (m < pack_min_rows) { add_product_rows(out, ld, w, n, b, ld, m, n, D, block); return; }
    float packed[key_tile * max_head];
    for (long j0 = 0; j0 < n; j0 += key_tile) {
        long rows = n - j0 < key_tile ? n - j0 : key_tile;
        pack_rows(packed, b + j0 * ld, rows, D, ld);
        add_product_rows(out, ld, w + j0, n, packed, D, m, rows, D, block);
    }
}

// out (n rows) += w^T b: w (m, n), b (m rows), D columns.
INLINE void add_transposed_product(float *out, const float *w, const float *b, long m, long n, long D, long ld, long block) {
    if (n < pack_min_rows) { add_transposed_product_rows(out, ld, w, n, b, ld, m, n, D, block); return; }
    float packed[key_tile * max_head];
    for (long i0 = 0; i0 < m; i0 += key_tile) {
        long rows = m - i0 < key_tile ? m - i0 : key_tile;
        pack_rows(packed, b + i0 * ld, rows, D, ld);
        add_transposed_product_rows(out, ld, w + i0 * n, n, packed, D, rows, n, D, block);
    }
}

INLINE void forward(float *out, float *p, float *dropped, const float *mask, const float *q, const float *k,
                    const float *v, long m, long n, long D, long ld, float scale, struct blocking b) {
    scores(p, q, k, m, n, D, ld, scale, b.tile, b.score_rows);
    for (long i = 0; i < m; i++) {
        float *pi = p + i * n;
        float top = max_lanes(pi, (size_t)n);
        for (long j = 0; j < n; j++) pi[j] = exp_approx(pi[j] - top);
        float inverse = 1.0f / sum_lanes(pi, (size_t)n);
        for (long j = 0; j < n; j++) pi[j] *= inverse;
    }
    for (long i = 0; i < m; i++)
        for (long e = 0; e < D; e++) out[i * ld + e] = 0;
    const float *weights = p;
    if (mask) {
        for (long j = 0; j < m * n; j++) dropped[j] = p[j] * mask[j];
        weights = dropped;
    }
    add_product(out, weights, v, m, n, D, ld, product_rows(b, D));
}

INLINE void backward(float *dq, float *dk, float *dv, float *ds, const float *dout, const float *p, const float *dropped,
                     const float *mask, const float *q, const float *k, const float *v, long m, long n, long D, long ld,
                     float scale, struct blocking b) {
    // dP = dout V^T, through the dropout mask; dV += (P or P * mask)^T dout
    scores(ds, dout, v, m, n, D, ld, 1.0f, b.tile, b.score_rows);
    if (mask) for (long j = 0; j < m * n; j++) ds[j] *= mask[j];
    add_transposed_product(dv, mask ? dropped : p, dout, m, n, D, ld, product_rows(b, D));
    // dS = P * (dP - rowsum(dP * P)) * scale
    for (long i = 0; i < m; i++) {
        float *di = ds + i * n;
        const float *pi = p + i * n;
        float dot = dot_lanes(pi, di, (size_t)n);
        for (long j = 0; j < n; j++) di[j] = pi[j] * (di[j] - dot) * scale;
    }
    // dQ += dS K ; dK += dS^T Q
    add_product(dq, ds, k, m, n, D, ld, product_rows(b, D));
    add_transposed_product(dk, ds, q, m, n, D, ld, product_rows(b, D));
}

// The head sizes of MiniLM (32) and BERT-base (64) get loops with constant trip counts; others the same code.
#define DISPATCH_HEAD_SIZE(call, d) \
    switch (d) { case 32: call(32); break; case 64: call(64); break; default: call(d); break; }

INLINE void forward_blocked(float *out, float *p, float *dropped, const float *mask, const float *q, const float *k,
                            const float *v, long m, long n, long d, long ld, float scale, struct blocking b) {
#define FORWARD(D) forward(out, p, dropped, mask, q, k, v, m, n, D, ld, scale, b)
    DISPATCH_HEAD_SIZE(FORWARD, d)
#undef FORWARD
}

INLINE void backward_blocked(float *dq, float *dk, float *dv, float *ds, const float *dout, const float *p,
                             const float *dropped, const float *mask, const float *q, const float *k, const float *v,
                             long m, long n, long d, long ld, float scale, struct blocking b) {
#define BACKWARD(D) backward(dq, dk, dv, ds, dout, p, dropped, mask, q, k, v, m, n, D, ld, scale, b)
    DISPATCH_HEAD_SIZE(BACKWARD, d)
#undef BACKWARD
}

#define FORWARD_ARGS float *out, float *p, float *dropped, const float *mask, const float *q, const float *k, \
                     const float *v, long m, long n, long d, long ld, float scale
#define BACKWARD_ARGS float *dq, float *dk, float *dv, float *ds, const float *dout, const float *p, \
                      const float *dropped, const float *mask, const float *q, const float *k, const float *v, \
                      long m, long n, long d, long ld, float scale
#define BACKWARD_CALL(b) backward_blocked(dq, dk, dv, ds, dout, p, dropped, mask, q, k, v, m, n, d, ld, scale, b)

static const struct blocking wide = {64, 2, 4}, narrow = {32, 2, 2};

#if defined(__x86_64__) && defined(__clang__)
__attribute__((target("arch=x86-64-v4"))) static void forward_avx512(FORWARD_ARGS) {
    forward_blocked(out, p, dropped, mask, q, k, v, m, n, d, ld, scale, wide);
}
__attribute__((target("arch=x86-64-v3"))) static void forward_avx2(FORWARD_ARGS) {
    forward_blocked(out, p, dropped, mask, q, k, v, m, n, d, ld, scale, narrow);
}
__attribute__((target("arch=x86-64-v4"))) static void backward_avx512(BACKWARD_ARGS) { BACKWARD_CALL(wide); }
__attribute__((target("arch=x86-64-v3"))) static void backward_avx2(BACKWARD_ARGS) { BACKWARD_CALL(narrow); }

// The same levels target_clones picks elsewhere: x86-64-v4 (AVX-512 F/BW/DQ/VL), x86-64-v3 (AVX2, FMA).
// Found once; threads racing to find it store the same value (relaxed atomics, no data race).
static int vector_level(void) {
    static int cached;
    int level = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (level) return level;
    __builtin_cpu_init();
    int avx512 = 1;
#ifdef IBA_AVX2_ONLY
    avx512 = 0;  // standing in for a CPU without AVX-512, like the clones elsewhere
#endif
    if (avx512 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
        && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
        level = 4;
    else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("bmi2"))
        level = 3;
    else
        level = 1;
    __atomic_store_n(&cached, level, __ATOMIC_RELAXED);
    return level;
}
#endif

int iba_attention_forward(FORWARD_ARGS) {
    if (d < 1 || d > max_head) return -1;
#if defined(__x86_64__) && defined(__clang__)
    int level = vector_level();
    if (level == 4) { forward_avx512(out, p, dropped, mask, q, k, v, m, n, d, ld, scale); return 0; }
    if (level == 3) { forward_avx2(out, p, dropped, mask, q, k, v, m, n, d, ld, scale); return 0; }
#endif
    forward_blocked(out, p, dropped, mask, q, k, v, m, n, d, ld, scale, narrow);
    return 0;
}

int iba_attention_backward(BACKWARD_ARGS) {
    if (d < 1 || d > max_head) return -1;
#if defined(__x86_64__) && defined(__clang__)
    int level = vector_level();
    if (level == 4) { backward_avx512(dq, dk, dv, ds, dout, p, dropped, mask, q, k, v, m, n, d, ld, scale); return 0; }
    if (level == 3) { backward_avx2(dq, dk, dv, ds, dout, p, dropped, mask, q, k, v, m, n, d, ld, scale); return 0; }
#endif
    BACKWARD_CALL(narrow);
    return 0;
}

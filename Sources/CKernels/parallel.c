// Parallel loops and large buffers for the kernels between GEMMs.
// The loops run on libgomp's pool, the threads oneDNN's GEMMs already use: a second pool (Dispatch) would
// compete for the cores with OpenMP threads still spin-waiting after each GEMM.
#include "ckernels.h"
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

// From libgomp (omp.h is not on the Swift toolchain's include path).
void GOMP_parallel(void (*fn)(void *), void *data, unsigned num_threads, unsigned flags);

struct parallel_job {
    long items;
    void (*body)(void *, long);
    void *context;
    long next;
};

static void parallel_worker(void *data) {
    struct parallel_job *job = data;
    for (;;) {
        long item = __atomic_fetch_add(&job->next, 1, __ATOMIC_RELAXED);
        if (item >= job->items) return;
        job->body(job->context, item);
    }
}

void iba_parallel_for(long items, int threads, void (*body)(void *, long), void *context) {
    if (threads <= 1 || items <= 1) {
        for (long i = 0; i < items; i++) body(context, i);
        return;
    }
    struct parallel_job job = {items, body, context, 0};
    GOMP_parallel(parallel_worker, &job, (unsigned)(threads < items ? threads : items), 0);
}

// Buffers of 2 MiB and more are mapped directly and left untouched: anonymous pages read as zero, so the
// first write in a kernel, spread over the threads, faults them in instead of a single-threaded memset.
// (First touch costs about 1 s per GB on this VM; transparent huge pages measured slower still.)
enum { large_buffer = 2 << 20 };

void *iba_allocate_zeroed(size_t bytes) {
    if (bytes < (size_t)large_buffer) {
        void *p = aligned_alloc(64, (bytes + 63) & ~(size_t)63);
        if (p) memset(p, 0, bytes);
        return p;
    }
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

void iba_deallocate(void *pointer, size_t bytes) {
    if (!pointer) return;
    if (bytes < (size_t)large_buffer) free(pointer);
    else munmap(pointer, bytes);
}

// Parallel loops and large buffers for the kernels between GEMMs.
// The loops run on libgomp's pool, the threads oneDNN's GEMMs already use: a second pool (Dispatch) would
// compete for the cores with OpenMP threads still spin-waiting after each GEMM.
#include "ckernels.h"
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <stdint.h>

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

// Buffers of 2 MiB and more are mapped on 2 MiB boundaries and marked for transparent huge pages: the first
// touch of a large activation buffer costs one fault per 2 MiB instead of per 4 KiB (a visible share of a
// single IBA example on this VM), and the GEMMs stream through fewer TLB entries.
enum { huge_page = 2 << 20 };

void *iba_allocate_zeroed(size_t bytes) {
    if (bytes < (size_t)huge_page) {
        void *p = aligned_alloc(64, (bytes + 63) & ~(size_t)63);
        if (p) memset(p, 0, bytes);
        return p;
    }
    size_t length = (bytes + huge_page - 1) & ~(size_t)(huge_page - 1);
    char *raw = mmap(NULL, length + huge_page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) return NULL;
    char *aligned = (char *)(((uintptr_t)raw + huge_page - 1) & ~(uintptr_t)(huge_page - 1));
    if (aligned > raw) munmap(raw, (size_t)(aligned - raw));
    size_t tail = (size_t)(raw + length + huge_page - (aligned + length));
    if (tail) munmap(aligned + length, tail);
    madvise(aligned, length, MADV_HUGEPAGE);
    return aligned;  // anonymous mappings read as zero
}

void iba_deallocate(void *pointer, size_t bytes) {
    if (!pointer) return;
    if (bytes < (size_t)huge_page) { free(pointer); return; }
    munmap(pointer, (bytes + huge_page - 1) & ~(size_t)(huge_page - 1));
}

/*
 * Which OpenMP runtime runs skxent's parallel regions.
 *
 * scikit-learn's wheels bring their own copy of libgomp (in
 * scikit_learn.libs); a module linked with -fopenmp gets the system's.  With
 * two runtimes in one process, two pools of threads: after a parallel region
 * each pool's threads spin for a while (GOMP_SPINCOUNT, about 3 ms by default)
 * before they sleep, so when a scikit-learn call and a skxent call alternate
 * on two cores, each one starts while the other's threads still spin on them.
 *
 * So on Linux with gcc, skxent does not link an OpenMP runtime at all: the few
 * entry points that gcc's OpenMP code calls are defined here, as trampolines
 * to the runtime chosen at import (skx_omp_bind): the one scikit-learn's own
 * extension modules use (found through one of them with dlsym, whatever it
 * is: the vendored libgomp, a conda libgomp, LLVM's libomp or Intel's, which
 * all implement this GNU interface), or else the system's libgomp, or else
 * none (every region then runs on the calling thread).  One pool of threads
 * then serves both libraries, and threadpoolctl's limits and OMP_NUM_THREADS
 * reach both.  Nothing in the environment is changed.
 *
 * The entry points are the ones the build uses (the build fails to import if
 * the code ever needs another: an undefined symbol): GOMP_parallel and
 * GOMP_barrier (a parallel region and its barrier, the GOMP_4.0 interface of
 * gcc >= 4.9), omp_get_thread_num, omp_get_num_threads, omp_get_max_threads.
 *
 * Elsewhere (clang, whose OpenMP code calls LLVM's own interface; MSVC;
 * macOS), SKX_OMP_SHIM is 0 and the build links the compiler's runtime as
 * usual.
 */
#ifndef SKXENT_OMP_H
#define SKXENT_OMP_H

#include <stddef.h>
#if defined(_MSC_VER)
#include <intrin.h>
#endif

#ifndef SKX_OMP_SHIM
#define SKX_OMP_SHIM 0
#endif

#if SKX_OMP_SHIM

#include <dlfcn.h>
#include <stddef.h>

typedef void (*skx_omp_parallel_fn)(void (*)(void *), void *, unsigned, unsigned);
typedef void (*skx_omp_void_fn)(void);
typedef int (*skx_omp_int_fn)(void);

static void skx_serial_parallel(void (*fn)(void *), void *data, unsigned n, unsigned flags)
{
    (void)n;
    (void)flags;
    fn(data);
}
static void skx_serial_barrier(void) {}
static int skx_serial_zero(void) { return 0; }
static int skx_serial_one(void) { return 1; }

static skx_omp_parallel_fn skx_omp_parallel = skx_serial_parallel;
static skx_omp_void_fn skx_omp_barrier = skx_serial_barrier;
static skx_omp_int_fn skx_omp_thread_num = skx_serial_zero;
static skx_omp_int_fn skx_omp_num_threads = skx_serial_one;
static skx_omp_int_fn skx_omp_max_threads = skx_serial_one;
static void *skx_omp_handle = NULL;

/* The trampolines.  The build has -fvisibility=hidden: they bind inside the
   module and are not exported (its only export is its init function). */
void GOMP_parallel(void (*fn)(void *), void *data, unsigned n, unsigned flags);

void GOMP_parallel(void (*fn)(void *), void *data, unsigned n, unsigned flags)
{
    skx_omp_parallel(fn, data, n, flags);
}
void GOMP_barrier(void) { skx_omp_barrier(); }
int omp_get_thread_num(void) { return skx_omp_thread_num(); }
int omp_get_num_threads(void) { return skx_omp_num_threads(); }
int omp_get_max_threads(void) { return skx_omp_max_threads(); }

/* Take the runtime's entry points from `handle`; 0 when one is missing. */
static int skx_omp_take(void *handle)
{
    void *p = dlsym(handle, "GOMP_parallel"), *b = dlsym(handle, "GOMP_barrier");
    void *t = dlsym(handle, "omp_get_thread_num"), *nt = dlsym(handle, "omp_get_num_threads");
    void *mt = dlsym(handle, "omp_get_max_threads");
    if (p == NULL || b == NULL || t == NULL || nt == NULL || mt == NULL) {
        return 0;
    }
    /* dlsym's void * to function pointers: POSIX guarantees the conversion. */
    *(void **)&skx_omp_parallel = p;
    *(void **)&skx_omp_barrier = b;
    *(void **)&skx_omp_thread_num = t;
    *(void **)&skx_omp_num_threads = nt;
    *(void **)&skx_omp_max_threads = mt;
    return 1;
}

/* Bind to the OpenMP runtime of the loaded shared object `module` (searched
   with its dependencies), or, with `module` NULL or without one, to the
   system's libgomp, or to none.  Returns 2, 1, 0 for these three, and sets
   *where to the path of the library whose GOMP_parallel is used ("" for
   none).  Call it while no parallel region runs (at import). */
static int skx_omp_bind(const char *module, const char **where)
{
    void *handle = NULL;
    int kind = 0;
    Dl_info info;
    if (module != NULL) {
        handle = dlopen(module, RTLD_LAZY | RTLD_NOLOAD);
        if (handle != NULL && skx_omp_take(handle)) {
            kind = 2;
        } else if (handle != NULL) {
            dlclose(handle);
            handle = NULL;
        }
    }
    if (kind == 0) {
        handle = dlopen("libgomp.so.1", RTLD_LAZY | RTLD_LOCAL);
        if (handle != NULL && skx_omp_take(handle)) {
            kind = 1;
        } else if (handle != NULL) {
            dlclose(handle);
            handle = NULL;
        }
    }
    if (kind == 0) {
        skx_omp_parallel = skx_serial_parallel;
        skx_omp_barrier = skx_serial_barrier;
        skx_omp_thread_num = skx_serial_zero;
        skx_omp_num_threads = skx_serial_one;
        skx_omp_max_threads = skx_serial_one;
    }
    /* The previous runtime stays loaded: its idle threads may still exist. */
    skx_omp_handle = handle;
    *where = "";
    if (kind != 0 && dladdr(*(void **)&skx_omp_parallel, &info) && info.dli_fname != NULL) {
        *where = info.dli_fname;
    }
    return kind;
}

#else /* !SKX_OMP_SHIM */

static int skx_omp_bind(const char *module, const char **where)
{
    (void)module;
    *where = "";
#if defined(_OPENMP)
    return 1;
#else
    return 0;
#endif
}

#endif /* SKX_OMP_SHIM */

/* Work sharing by claims: each thread of a region takes the next `step`
   chunks from a shared counter until none are left.  A thread that starts
   late (its core busy, or its virtual CPU asleep) then costs the others only
   the work it does not do, instead of its whole static share: results do not
   depend on which thread computes a row.  Returns the first chunk claimed. */
static inline ptrdiff_t skx_claim(ptrdiff_t *next, ptrdiff_t step)
{
#if defined(__GNUC__) || defined(__clang__)
    return __atomic_fetch_add(next, step, __ATOMIC_RELAXED);
#elif defined(_MSC_VER) && defined(_WIN64)
    return (ptrdiff_t)_InterlockedExchangeAdd64((volatile __int64 *)next, (__int64)step);
#else
    /* No atomics known here: a critical section would do; claims are few. */
    ptrdiff_t first;
#pragma omp critical(skx_claim)
    {
        first = *next;
        *next += step;
    }
    return first;
#endif
}

#endif /* SKXENT_OMP_H */

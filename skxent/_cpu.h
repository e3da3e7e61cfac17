/*
 * The widest x86-64 instruction set this CPU (and OS) supports, for the
 * kernels' dispatch at import (skxent/_simd.h, skxent/_sparse_simd.h):
 * 3 AVX-512 (F, DQ, VL, BW), 2 AVX2 with FMA, 1 SSE2 (every x86-64), 0 another
 * platform or compiler.  gcc's and clang's __builtin_cpu_supports also check
 * that the OS saves the registers.
 */
#ifndef SKXENT_CPU_H
#define SKXENT_CPU_H

static int skx_cpu_best(void)
{
#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq")
        && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw")) {
        return 3;
    }
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        return 2;
    }
    return 1;
#else
    return 0;
#endif
}

#endif /* SKXENT_CPU_H */

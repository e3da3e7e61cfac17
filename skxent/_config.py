"""What this build of skxent can do."""

import sys

from . import _core


def build_info():
    """Return a dict of the build's facts: OpenMP and the runtime its threads
    come from (``openmp_runtime``: ``"scikit-learn"`` when skxent shares
    scikit-learn's, ``"system"``, or ``"none"``; ``openmp_library``: its path
    where known), the vector instruction set of the kernels (``simd``:
    ``"avx512"``, ``"avx2"``, ``"sse2"``, or ``"none"`` for the plain C
    fallback of other platforms), threads."""
    return dict(_core.build_info())


def show_config(file=None):
    """Print how skxent was built and how many threads its kernels will use.

    Examples
    --------
    >>> import skxent
    >>> skxent.show_config()  # doctest: +ELLIPSIS
    skxent ...
    """
    from . import __version__

    info = build_info()
    out = file if file is not None else sys.stdout
    print(f"skxent {__version__}", file=out)
    runtime = {"scikit-learn": " (scikit-learn's runtime)", "system": " (the system's runtime)"}
    openmp = "no (serial build)"
    if info["openmp"]:
        openmp = "yes" + runtime.get(info["openmp_runtime"], "")
    print(f"  OpenMP:            {openmp}", file=out)
    simd = {"avx512": "AVX-512", "avx2": "AVX2", "sse2": "SSE2"}.get(info["simd"])
    print(f"  vectorised exp:    {f'yes ({simd})' if simd else 'no'}", file=out)
    print(f"  threads available: {info['max_threads']}", file=out)

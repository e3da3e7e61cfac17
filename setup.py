"""Build skxent's Cython extension, with OpenMP when the compiler has it.

Everything else about the package lives in ``pyproject.toml``.
"""

import os
import sys
import tempfile
import textwrap

from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

# Set once for the whole project (STYLE.md): the kernels index within bounds
# that the Python wrappers guarantee, so Cython's own checks are switched off.
COMPILER_DIRECTIVES = {
    "language_level": 3,
    "boundscheck": False,
    "wraparound": False,
    "initializedcheck": False,
    "nonecheck": False,
    "cdivision": True,
    "cpow": True,
    "embedsignature": True,
}

_OPENMP_PROBE = textwrap.dedent(
    """
    #include <omp.h>
    int main(void) { return omp_get_max_threads() > 0 ? 0 : 1; }
    """
)


def _compiles(compiler, source, flags):
    """Whether ``compiler`` builds and links ``source`` with ``flags``."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "probe.c")
        with open(path, "w") as f:
            f.write(source)
        try:
            objects = compiler.compile([path], output_dir=tmp, extra_postargs=flags)
            compiler.link_executable(objects, "probe", output_dir=tmp, extra_postargs=flags)
        except Exception:  # noqa: BLE001 - any failure means "not available"
            return False
    return True


_GCC_ON_LINUX_PROBE = textwrap.dedent(
    """
    #if !defined(__GNUC__) || defined(__clang__) || !defined(__linux__)
    #error "not gcc on Linux"
    #endif
    #include <omp.h>
    int main(void) { return 0; }
    """
)


class BuildExt(build_ext):
    """Add OpenMP flags when the compiler supports them, else build serially.

    ``SKXENT_NO_OPENMP=1`` forces the serial build.  With gcc on Linux the
    module does not link an OpenMP runtime: it calls the one scikit-learn
    uses, chosen at import (``skxent/_omp.h`` says why and how), so it is
    compiled with ``-fopenmp`` but linked without it.  Note what is *not*
    here: ``-ffast-math``.  Linked into a shared object it pulls in
    ``crtfastmath.o``, which sets flush-to-zero for the whole Python process
    at import.  The vector ``exp`` and ``log`` are skxent's own
    (``skxent/_simd_body.h``), compiled for each instruction set and picked at
    import (``skxent/_simd.h``); ``-ffp-contract=off`` keeps the compiler from
    fusing a multiply and an add on its own, so that the only fused
    multiply-adds are the explicit ones and every entry of an array goes
    through the same roundings.
    """

    def build_extensions(self):
        ctype = self.compiler.compiler_type
        libraries = []
        if ctype == "msvc":
            compile_flags, link_flags = ["/O2", "/openmp"], []
            openmp = os.environ.get("SKXENT_NO_OPENMP") != "1"
            if not openmp:
                compile_flags = ["/O2"]
        else:
            compile_flags = ["-O3", "-ffp-contract=off"]
            link_flags = []
            openmp = os.environ.get("SKXENT_NO_OPENMP") != "1" and _compiles(
                self.compiler, _OPENMP_PROBE, ["-fopenmp"]
            )
            shim = openmp and _compiles(self.compiler, _GCC_ON_LINUX_PROBE, ["-fopenmp"])
            if shim:
                compile_flags += ["-fopenmp", "-DSKX_OMP_SHIM=1", "-fvisibility=hidden"]
                libraries.append("dl")
            elif openmp:
                compile_flags.append("-fopenmp")
                link_flags.append("-fopenmp")
            elif _compiles(self.compiler, "int main(void){return 0;}", ["-fopenmp-simd"]):
                compile_flags.append("-fopenmp-simd")
        print(f"skxent: building with OpenMP: {openmp}", file=sys.stderr)
        for ext in self.extensions:
            ext.extra_compile_args = list(ext.extra_compile_args) + compile_flags
            ext.extra_link_args = list(ext.extra_link_args) + link_flags
            ext.libraries = list(ext.libraries) + libraries
        super().build_extensions()


extensions = [
    Extension(
        "skxent._core",
        ["skxent/_core.pyx"],
        include_dirs=["skxent"],
        libraries=[] if sys.platform == "win32" else ["m"],
        depends=[
            "skxent/_cpu.h",
            "skxent/_simd.h",
            "skxent/_simd_isa.h",
            "skxent/_simd_body.h",
            "skxent/_omp.h",
        ],
    ),
    # The solvers' own kernels (newton-cd's coordinate descent).
    Extension(
        "skxent._cd",
        ["skxent/_cd.pyx"],
        include_dirs=["skxent"],
        libraries=[] if sys.platform == "win32" else ["m"],
        depends=["skxent/_cd_loops.h", "skxent/_omp.h"],
    ),
    # Products of a CSR X with a dense matrix, for the objective on sparse X.
    Extension(
        "skxent._sparse",
        ["skxent/_sparse.pyx"],
        include_dirs=["skxent"],
        depends=[
            "skxent/_omp.h",
            "skxent/_cpu.h",
            "skxent/_sparse_simd.h",
            "skxent/_sparse_set.h",
            "skxent/_sparse_isa.h",
            "skxent/_sparse_body.h",
        ],
    ),
]

setup(
    ext_modules=cythonize(extensions, compiler_directives=COMPILER_DIRECTIVES),
    cmdclass={"build_ext": BuildExt},
)

"""What this build of skxent can do."""

import sys

from . import _core


def build_info():
    """Return a dict of the build's facts: OpenMP, vectorised exp, threads."""
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
    print(f"  OpenMP:            {'yes' if info['openmp'] else 'no (serial build)'}", file=out)
    print(f"  vectorised exp:    {'yes (glibc libmvec)' if info['vector_exp'] else 'no'}", file=out)
    print(f"  threads available: {info['max_threads']}", file=out)

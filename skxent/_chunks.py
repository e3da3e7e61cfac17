"""Row chunks in parallel, folded in chunk order.

The objective of a linear model is a sum over rows.  It is computed over fixed
chunks of rows (their boundaries depend on the data's shape only), the chunks
run on a small pool of threads, and their results are added in chunk order,
never per thread: a sum's bits do not depend on how many threads ran it.  BLAS
runs on one thread meanwhile (inside a chunk, where its own threads would cost
more than they save and would make products depend on the thread count), and
so do the solvers' own BLAS calls between evaluations.
"""

import threading
from collections import deque
from concurrent.futures import ThreadPoolExecutor

__all__ = ["ChunkRunner"]

_CONTROLLER = None
# BLAS's thread limit is process-wide: fits that overlap (in user threads)
# share one limit, set by the first to enter and restored by the last to leave.
_LIMIT_LOCK = threading.Lock()
_LIMIT = {"depth": 0, "limits": None}


def _enter_single_blas():
    with _LIMIT_LOCK:
        if _LIMIT["depth"] == 0:
            _LIMIT["limits"] = _blas_controller().limit(limits=1, user_api="blas")
        _LIMIT["depth"] += 1


def _leave_single_blas():
    with _LIMIT_LOCK:
        _LIMIT["depth"] -= 1
        if _LIMIT["depth"] == 0 and _LIMIT["limits"] is not None:
            _LIMIT["limits"].restore_original_limits()
            _LIMIT["limits"] = None


def _blas_controller():
    """threadpoolctl's view of the loaded BLAS libraries, inspected once."""
    global _CONTROLLER
    if _CONTROLLER is None:
        from threadpoolctl import ThreadpoolController

        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER


def _add(total, result):
    if total is None:
        return result
    return tuple(a + b for a, b in zip(total, result))


class ChunkRunner:
    """Run ``func(chunk)`` over chunks on ``n_threads`` threads; fold in chunk order.

    Use as a context manager: on entry BLAS is limited to one thread and the
    pool starts; on exit both are undone.  Outside a ``with`` block (or with
    one thread) the chunks run one after the other, with the same result.
    """

    def __init__(self, n_threads):
        self.n_threads = max(1, int(n_threads))
        self._pool = None
        self._limits = None

    @property
    def parallel(self):
        """Whether chunks run on the pool (a kernel inside one then takes one thread)."""
        return self._pool is not None

    def __enter__(self):
        _enter_single_blas()
        self._limits = True
        if self.n_threads > 1:
            self._pool = ThreadPoolExecutor(max_workers=self.n_threads)
        return self

    def __exit__(self, *exc):
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None
        if self._limits is not None:
            _leave_single_blas()
            self._limits = None

    def fold(self, func, chunks):
        """``func(c0) + func(c1) + ...`` element-wise over result tuples, in chunk order.

        At most two chunks per thread are in flight, so that the results
        waiting to be added stay few.
        """
        total = None
        if self._pool is None or len(chunks) == 1:
            for chunk in chunks:
                total = _add(total, func(chunk))
            return total
        window = 2 * self.n_threads
        pending = deque()
        for chunk in chunks:
            pending.append(self._pool.submit(func, chunk))
            if len(pending) >= window:
                total = _add(total, pending.popleft().result())
        while pending:
            total = _add(total, pending.popleft().result())
        return total

    def run(self, func, chunks):
        """``func(chunk)`` for every chunk, for its side effects, in parallel."""
        if self._pool is None or len(chunks) == 1:
            for chunk in chunks:
                func(chunk)
            return
        for future in [self._pool.submit(func, chunk) for chunk in chunks]:
            future.result()

"""skxent's log_loss and loss kernel against scikit-learn, timed in the same run.

Prints the median time of each over repeats and the ratio (scikit-learn time /
skxent time), with the machine, the versions and its load during the run.
The same as ``python -m skxent bench`` (see :mod:`skxent.benchmarks`).  Usage::

    python benchmarks/bench_core.py [--n 1000000] [--k 10] [--repeats 7]
"""

import sys

from skxent.__main__ import main

if __name__ == "__main__":
    sys.exit(main(["bench", *sys.argv[1:]]))

"""skxent's log_loss and loss kernel against scikit-learn, timed in the same run.

Prints the median time of each over repeats and the ratio (scikit-learn time /
skxent time).  Same as ``python -m skxent bench``.  Usage::

    python benchmarks/bench_core.py [--n 1000000] [--k 10] [--repeats 7]
"""

from skxent._bench import main

if __name__ == "__main__":
    main()

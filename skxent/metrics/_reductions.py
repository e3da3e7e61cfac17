"""What every metric does after its per-sample values: weights, reduction, base."""

import numpy as np

from .. import loss as _kernels


def reduce(per_sample, sample_weight, reduction, factor):
    """Reduce per-sample values in nats, then scale them to the log base.

    ``sample_weight`` is a :class:`skxent._validation.SampleWeight` or None.
    ``"mean"`` is ``sum_i s_i l_i / sum_i s_i``, computed with the scaled
    weights (largest 1), so that no uniform rescaling of the weights, from
    subnormal to 1e308, changes it; ``"sum"`` scales back; ``"none"`` gives
    ``s_i l_i``, so that ``"sum"`` is the sum of ``"none"``.  Sums are taken
    over fixed blocks of rows: the same bits for any number of threads.
    """
    if sample_weight is not None and not np.isfinite(per_sample).all():
        # A sample of weight 0 counts for nothing, even where its loss is inf
        # (eps=0 and a zero probability on its class): 0, not 0 * inf = NaN.
        per_sample = np.where(sample_weight.values == 0.0, 0.0, per_sample)
    if reduction == "none":
        out = np.asarray(per_sample, dtype=np.float64)
        if sample_weight is not None:
            out = out * sample_weight.values
        return out * factor if factor != 1.0 else out
    if sample_weight is None:
        total, wsum = _kernels._weighted_sum(per_sample)
        value = total / wsum if reduction == "mean" else total
    elif reduction == "mean":
        value = sample_weight.mean_of(per_sample)
    else:
        value = sample_weight.sum_of(per_sample)
    return float(value * factor)

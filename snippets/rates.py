"""Rates measured on a few dozen items, with what they can and cannot tell: the 95% Wilson
interval of one rate and, for two ways of answering the same items, the exact sign test and
the 95% interval of the change.

Imported by the snippets that print a rate; save it beside them."""
from math import comb, sqrt


def wilson(hits, n, z=1.96):
    """The 95% Wilson interval (low, high) of a rate of hits out of n: the true rates that
    hits/n does not rule out. It stays within 0-1, and holds for small n and for 0/n."""
    p = hits / n
    centre, half = p + z * z / (2 * n), z * sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, (centre - half) / (1 + z * z / n)), min(1.0, (centre + half) / (1 + z * z / n))


def interval(hits, n):
    """The Wilson interval as the pages print it: [low-high]."""
    return "[{:.2f}-{:.2f}]".format(*wilson(hits, n))


def sign_test(better, worse):
    """Two-sided exact sign test on the items that changed (the ties left out): how likely a
    split this uneven is if neither way is better."""
    changed = better + worse
    return min(1.0, 2 * sum(comb(changed, i) for i in range(max(better, worse), changed + 1)) / 2**changed)


def paired_change(better, worse, n, z=1.96):
    """The change in a rate when the same n items are asked two ways, (better - worse) / n, and
    its 95% Wald interval for paired items: (change, low, high)."""
    change = (better - worse) / n
    half = z * sqrt((better + worse) / n - change * change) / sqrt(n)
    return change, change - half, change + half

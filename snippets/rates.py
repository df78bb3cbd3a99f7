"""Rates measured on a few dozen items, with what they can and cannot tell: the 95% Wilson
interval of one rate and, for two ways of answering the same items, the exact sign test and
the 95% interval of the change (Newcombe's); Holm's correction when several tests are run.

Imported by the snippets that print a rate; save it beside them."""
from math import comb, sqrt


def wilson(hits, n, z=1.96):
    """The 95% Wilson interval (low, high) of a rate of hits out of n: the true rates that
    hits/n does not rule out. It stays within 0-1, is defined at 0/n and n/n, and even for a few
    dozen items covers the true rate about 95% of the time on average (a little less for some rates)."""
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


def holm(p_values):
    """Holm's correction for running m tests: the k-th smallest p is multiplied by m - k + 1
    (capped at 1, and never below the one before it)."""
    order, adjusted, running = sorted(range(len(p_values)), key=lambda i: p_values[i]), [0.0] * len(p_values), 0.0
    for k, i in enumerate(order):
        running = max(running, min(1.0, (len(p_values) - k) * p_values[i]))
        adjusted[i] = running
    return adjusted


def paired_change(then, now, z=1.96):
    """The change in a rate when the same items are judged two ways (lists of True/False, item
    by item), now minus then, and its 95% interval: (change, low, high). Newcombe's method 10
    (Statistics in Medicine, 1998): each rate's Wilson interval, combined with how the two ways'
    verdicts go together. Unlike the simple Wald interval it stays within -1 to 1 and does not
    shrink to a point when few or no items change."""
    n = len(then)
    both = sum(a and b for a, b in zip(then, now, strict=True))
    better, worse = sum(b and not a for a, b in zip(then, now)), sum(a and not b for a, b in zip(then, now))
    neither = n - both - better - worse
    (p1, (l1, u1)), (p2, (l2, u2)) = ((k / n, wilson(k, n, z)) for k in (both + worse, both + better))
    # How the two ways' verdicts go together (phi), with Newcombe's continuity correction.
    spread = sqrt((both + worse) * (neither + better) * (both + better) * (neither + worse))
    cross = both * neither - better * worse
    cross = cross - n / 2 if cross > n / 2 else min(cross, 0)
    phi = cross / spread if spread else 0.0
    change = p2 - p1
    low = change - sqrt((p2 - l2) ** 2 - 2 * phi * (p2 - l2) * (u1 - p1) + (u1 - p1) ** 2)
    high = change + sqrt((u2 - p2) ** 2 - 2 * phi * (u2 - p2) * (p1 - l1) + (p1 - l1) ** 2)
    return change, low, high

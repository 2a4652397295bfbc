"""Significance figures for A/B tests, without scipy: the two-proportion z-test (two
variants, or the best against the runner-up), Pearson's chi-square test of independence
(three or more variants), p-values through `math.erfc` and the chi-square survival function
(closed form for whole degrees of freedom), and the 95% confidence interval of a difference.

A rate is successes / trials, where trials are delivered emails and successes opens or
clicks. Below `MIN_SAMPLE` delivered emails in any variant the figures are still computed
but never called significant ("not enough data").
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

ALPHA = 0.05
Z_95 = 1.959963984540054  # the two-sided 95% quantile of the normal distribution
MIN_SAMPLE = 30


@dataclass(frozen=True)
class Proportion:
    successes: int
    trials: int

    @property
    def rate(self) -> float:
        return self.successes / self.trials if self.trials else 0.0


@dataclass(frozen=True)
class Comparison:
    """A against B: the difference of rates (a − b), its 95% confidence interval, the
    z statistic (pooled standard error) and the two-sided p-value."""

    difference: float
    ci_low: float
    ci_high: float
    z: float
    p: float
    enough_data: bool

    @property
    def significant(self) -> bool:
        return self.enough_data and self.p < ALPHA


@dataclass(frozen=True)
class ChiSquare:
    statistic: float
    df: int
    p: float
    enough_data: bool

    @property
    def significant(self) -> bool:
        return self.enough_data and self.p < ALPHA


def normal_two_sided_p(z: float) -> float:
    """P(|Z| >= |z|) for a standard normal Z."""
    return math.erfc(abs(z) / math.sqrt(2))


def two_proportion(a: Proportion, b: Proportion) -> Comparison:
    """The two-proportion z-test of a against b."""
    enough = min(a.trials, b.trials) >= MIN_SAMPLE
    if not a.trials or not b.trials:
        return Comparison(0.0, 0.0, 0.0, 0.0, 1.0, enough_data=False)
    difference = a.rate - b.rate
    pooled = (a.successes + b.successes) / (a.trials + b.trials)
    pooled_se = math.sqrt(pooled * (1 - pooled) * (1 / a.trials + 1 / b.trials))
    if pooled_se == 0:
        # Both rates are 0% or both 100%: no difference to test.
        z, p = 0.0, 1.0
    else:
        z = difference / pooled_se
        p = normal_two_sided_p(z)
    # The interval uses the unpooled standard error (Wald), as is usual for a difference.
    se = math.sqrt(a.rate * (1 - a.rate) / a.trials + b.rate * (1 - b.rate) / b.trials)
    return Comparison(
        difference=difference,
        ci_low=difference - Z_95 * se,
        ci_high=difference + Z_95 * se,
        z=z,
        p=p,
        enough_data=enough,
    )


def chi_square_sf(statistic: float, df: int) -> float:
    """P(X >= statistic) for X chi-square distributed with `df` (>= 1) degrees of freedom."""
    if df < 1:
        raise ValueError("df must be at least 1")
    if statistic <= 0:
        return 1.0
    half = statistic / 2
    if df % 2 == 0:
        term, total = 1.0, 1.0
        for i in range(1, df // 2):
            term *= half / i
            total += term
        return min(1.0, math.exp(-half) * total)
    root = math.sqrt(statistic)
    total = math.erfc(root / math.sqrt(2))
    if df > 1:
        term = root * math.sqrt(2 / math.pi) * math.exp(-half)
        series = term
        for i in range(1, (df - 1) // 2):
            term *= statistic / (2 * i + 1)
            series += term
        total += series
    return min(1.0, total)


def chi_square(groups: Sequence[Proportion]) -> ChiSquare:
    """Pearson's chi-square test that all groups share one rate (a k × 2 table)."""
    enough = bool(groups) and min(group.trials for group in groups) >= MIN_SAMPLE
    trials = sum(group.trials for group in groups)
    successes = sum(group.successes for group in groups)
    df = max(len(groups) - 1, 1)
    if not trials or successes in (0, trials):
        return ChiSquare(0.0, df, 1.0, enough_data=False if not trials else enough)
    rate = successes / trials
    statistic = 0.0
    for group in groups:
        if not group.trials:
            continue
        expected_yes = group.trials * rate
        expected_no = group.trials * (1 - rate)
        statistic += (group.successes - expected_yes) ** 2 / expected_yes
        statistic += (group.trials - group.successes - expected_no) ** 2 / expected_no
    return ChiSquare(statistic, df, chi_square_sf(statistic, df), enough_data=enough)

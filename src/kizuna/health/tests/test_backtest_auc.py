"""The ROC AUC of the backtest: rank-based (Mann–Whitney), a lower score meaning more risk."""

from __future__ import annotations

from kizuna.health.backtest import roc_auc


def test_auc_of_a_known_small_example() -> None:
    # Churned 10 scores below both stayers; churned 30 only below stayer 40: 3 of 4 pairs.
    pairs = [(10.0, True), (20.0, False), (30.0, True), (40.0, False)]
    assert roc_auc(pairs) == 0.75


def test_a_perfect_ranking_gives_one_and_a_reversed_one_zero() -> None:
    assert roc_auc([(5.0, True), (15.0, True), (80.0, False), (90.0, False)]) == 1.0
    assert roc_auc([(95.0, True), (85.0, True), (10.0, False), (20.0, False)]) == 0.0


def test_ties_count_half() -> None:
    assert roc_auc([(50.0, True), (50.0, False)]) == 0.5
    # 1 win and 1 tie out of 2 pairs.
    assert roc_auc([(20.0, True), (20.0, False), (70.0, False)]) == 0.75


def test_without_both_outcomes_there_is_no_auc() -> None:
    assert roc_auc([(10.0, True), (20.0, True)]) is None
    assert roc_auc([(10.0, False)]) is None
    assert roc_auc([]) is None

import math

import pytest

from kizuna.engagement import stats


def test_two_proportion_z_test_matches_known_values():
    result = stats.two_proportion(stats.Proportion(250, 1000), stats.Proportion(200, 1000))

    assert result.z == pytest.approx(2.677, abs=0.001)
    assert result.p == pytest.approx(0.0074, abs=0.0002)
    assert result.significant


def test_confidence_interval_of_the_difference_uses_unpooled_error():
    result = stats.two_proportion(stats.Proportion(250, 1000), stats.Proportion(200, 1000))

    se = math.sqrt(0.25 * 0.75 / 1000 + 0.2 * 0.8 / 1000)
    assert result.difference == pytest.approx(0.05)
    assert result.ci_low == pytest.approx(0.05 - 1.96 * se, abs=1e-4)
    assert result.ci_high == pytest.approx(0.05 + 1.96 * se, abs=1e-4)


def test_small_difference_is_not_significant():
    result = stats.two_proportion(stats.Proportion(210, 1000), stats.Proportion(200, 1000))

    assert result.p > 0.05
    assert not result.significant


def test_fewer_than_30_delivered_is_not_enough_data_even_with_a_big_gap():
    result = stats.two_proportion(stats.Proportion(20, 29), stats.Proportion(1, 29))

    assert result.p < 0.05
    assert not result.enough_data
    assert not result.significant


def test_equal_rates_of_zero_give_p_of_one():
    result = stats.two_proportion(stats.Proportion(0, 100), stats.Proportion(0, 100))

    assert result.z == 0
    assert result.p == 1


@pytest.mark.parametrize(
    ("statistic", "df", "expected"),
    [
        (3.841459, 1, 0.05),
        (5.991465, 2, 0.05),
        (7.814728, 3, 0.05),
        (9.487729, 4, 0.05),
        (11.0705, 5, 0.05),
        (6.634897, 1, 0.01),
    ],
)
def test_chi_square_survival_function_matches_tables(statistic, df, expected):
    assert stats.chi_square_sf(statistic, df) == pytest.approx(expected, abs=1e-5)


def test_chi_square_over_three_variants():
    # Expected rate 0.2: chi2 = sum over cells of (o - e)^2 / e.
    groups = [stats.Proportion(150, 1000), stats.Proportion(200, 1000), stats.Proportion(250, 1000)]

    result = stats.chi_square(groups)

    expected = 2 * (50**2 / 200 + 50**2 / 800)
    assert result.statistic == pytest.approx(expected)
    assert result.df == 2
    assert result.p == pytest.approx(math.exp(-expected / 2))
    assert result.significant


def test_chi_square_on_two_groups_equals_z_squared():
    a, b = stats.Proportion(250, 1000), stats.Proportion(200, 1000)

    assert stats.chi_square([a, b]).statistic == pytest.approx(stats.two_proportion(a, b).z ** 2)

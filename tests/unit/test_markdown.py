import math

import pandas as pd

from memdissect.markdown import interval, markdown_table, ratio_interval


def test_a_table_has_a_header_a_rule_and_a_row_per_row_with_floats_to_four_digits():
    frame = pd.DataFrame({"f2": ["b", "c"], "dist": [0.123456, math.nan], "n": [3, 4]})
    assert markdown_table(frame) == (
        "| f2 | dist | n |\n|---|---|---|\n| b | 0.1235 | 3 |\n| c |  | 4 |"
    )


def test_a_value_is_shown_with_its_interval():
    row = {
        "dist_mean": 1.23456,
        "dist_ci_low": 1.0,
        "dist_ci_high": 1.5,
        "relabeled_ratio": 0.5,
        "relabeled_ratio_ci_low": 0.25,
        "relabeled_ratio_ci_high": 0.75,
    }
    assert interval(row) == "1.235 [1, 1.5]"
    assert ratio_interval(row) == "0.5 [0.25, 0.75]"

import numpy as np
import pytest

from hpcpredict.evaluate import score
from hpcpredict.evaluate.baselines import baseline_predictions


def test_metrics_on_hand_computed_values():
    pred = np.array([50.0, 200.0, 100.0, 400.0])
    actual = np.array([100.0, 100.0, 100.0, 100.0])
    s = score(pred, actual)
    assert s["mae"] == pytest.approx((50 + 100 + 0 + 300) / 4)
    assert s["median_ae"] == pytest.approx(75)
    assert s["mape"] == pytest.approx((50 + 100 + 0 + 300) / 4)
    assert s["underestimation_rate"] == pytest.approx(0.25)
    assert s["average_accuracy"] == pytest.approx((0.5 + 0.5 + 1 + 0.25) / 4)


def test_last2_baseline_is_capped_at_the_limit_and_falls_back_to_it():
    import pandas as pd

    table = pd.DataFrame({"time_limit_s": [100.0, 100.0, 100.0], "user_last2_mean_s": [50.0, 500.0, np.nan]})
    got = baseline_predictions(table)
    np.testing.assert_array_equal(got["user_last2"], [50.0, 100.0, 100.0])
    np.testing.assert_array_equal(got["requested_limit"], [100.0, 100.0, 100.0])

"""History features must only see jobs that ended before the submission."""

import numpy as np
import pandas as pd
import pytest

from hpcpredict.features import build_features
from hpcpredict.features.history import history_features
from hpcpredict.schema import conform_jobs
from hpcpredict.metadata import feature_specs


def _jobs(n=300, seed=1):
    rng = np.random.default_rng(seed)
    submit = np.sort(rng.uniform(0, 50_000, n))
    wait = rng.exponential(500, n)
    runtime = rng.exponential(2_000, n).round() + 1
    t0 = pd.Timestamp("2024-01-01", tz="UTC")
    return conform_jobs(
        pd.DataFrame(
            {
                "job_id": [str(i) for i in range(n)],
                "user": rng.choice(["a", "b", "c", "d"], n),
                "app": rng.choice(["lammps", "vasp"], n),
                "submit_time": t0 + pd.to_timedelta(submit, unit="s"),
                "start_time": t0 + pd.to_timedelta(submit + wait, unit="s"),
                "end_time": t0 + pd.to_timedelta(submit + wait + runtime, unit="s"),
                "runtime_s": runtime,
                "time_limit_s": runtime * 3,
                "req_cpus": rng.integers(1, 64, n),
            }
        )
    )


def _brute_force(jobs, key, k=10):
    rows = []
    for _, job in jobs.iterrows():
        prior = jobs[(jobs[key] == job[key]) & (jobs["end_time"] < job["submit_time"])].sort_values("end_time", kind="stable")
        r = prior["runtime_s"].to_numpy()
        ratio = (prior["runtime_s"] / prior["time_limit_s"]).to_numpy()
        rows.append(
            {
                f"{key}_last_runtime_s": r[-1] if len(r) else np.nan,
                f"{key}_last2_mean_s": r[-2:].mean() if len(r) else np.nan,
                f"{key}_median_last10_s": np.median(r[-k:]) if len(r) else np.nan,
                f"{key}_ratio_last10": ratio[-k:].mean() if len(r) else np.nan,
                f"{key}_count_prior": float(len(r)),
            }
        )
    return pd.DataFrame(rows, index=jobs.index)


@pytest.mark.parametrize("key", ["user", "app"])
def test_history_equals_a_brute_force_reference(key):
    jobs = _jobs()
    got = history_features(jobs)
    want = _brute_force(jobs, key)
    pd.testing.assert_frame_equal(got[want.columns], want, check_dtype=False)


def test_perturbing_a_job_that_ends_after_a_submission_leaves_that_jobs_features_unchanged():
    jobs = _jobs()
    before = build_features(jobs, horizon="submit")
    probe = 150
    submit = jobs.loc[probe, "submit_time"]
    later = jobs.index[(jobs["end_time"] >= submit) & (jobs["user"] == jobs.loc[probe, "user"]) & (jobs.index != probe)]
    assert len(later) > 0
    changed = jobs.copy()
    changed.loc[later, "runtime_s"] *= 7
    changed.loc[later, "end_time"] = changed.loc[later, "start_time"] + pd.to_timedelta(changed.loc[later, "runtime_s"], unit="s")
    after = build_features(changed, horizon="submit")
    names = [f["name"] for f in feature_specs(before)]
    pd.testing.assert_series_equal(before.loc[probe, names], after.loc[probe, names])
    # the perturbation is visible to jobs submitted after those jobs ended: the test can fail
    assert not before["user_last2_mean_s"].equals(after["user_last2_mean_s"])


def test_a_job_ending_exactly_at_a_submission_is_not_yet_history():
    jobs = _jobs(n=2)
    jobs["user"] = "a"
    jobs.loc[1, "submit_time"] = jobs.loc[0, "end_time"]
    feats = history_features(jobs)
    assert feats.loc[1, "user_count_prior"] == 0
    assert np.isnan(feats.loc[1, "user_last2_mean_s"])


def test_features_carry_family_and_horizon():
    table = build_features(_jobs(), horizon="submit")
    specs = {f["name"]: f for f in feature_specs(table)}
    assert specs["user_last2_mean_s"]["family"] == "history"
    assert specs["submit_hour"]["family"] == "calendar"
    assert {f["horizon"] for f in specs.values()} == {"submit"}
    assert "runtime_s" in table.columns and "runtime_s" not in specs


def test_heuristic_features_equal_a_brute_force_reference():
    jobs = _jobs(n=200, seed=3)
    jobs["time_limit_s"] = jobs["runtime_s"] * np.random.default_rng(4).uniform(1, 5, len(jobs))
    jobs["state"] = np.where(np.arange(len(jobs)) % 3 == 0, "FAILED", "COMPLETED")
    jobs.loc[jobs.index[10:14], "submit_time"] = jobs.loc[jobs.index[10], "submit_time"]  # a burst in one second
    jobs.loc[jobs.index[10:14], "user"] = "a"
    got = build_features(jobs, horizon="submit")
    for i, job in jobs.iterrows():
        mine = jobs[jobs["user"] == job["user"]]
        prior = mine[mine["end_time"] < job["submit_time"]].sort_values("end_time", kind="stable")
        ratio = (prior["runtime_s"] / prior["time_limit_s"]).to_numpy()
        done = prior.loc[prior["state"] == "COMPLETED", "runtime_s"].to_numpy()
        want = {
            "user_ratio_last2_max": ratio[-2:].max() if len(ratio) else np.nan,
            "user_ratio_last5_mean": ratio[-5:].mean() if len(ratio) else np.nan,
            "user_alea_last5_max_s": job["time_limit_s"] * ratio[-5:].max() if len(ratio) else np.nan,
            "user_last2_completed_mean_s": done[-2:].mean() if len(done) else np.nan,
        }
        for name, value in want.items():
            np.testing.assert_allclose(got.loc[i, name], value, rtol=1e-9, err_msg=f"{name} of job {i}")


def test_the_repeats_of_a_request_equal_a_brute_force_reference():
    """The user's earlier jobs with the same time limit and CPUs; none for a request never made."""
    jobs = _jobs(n=240, seed=5)
    rng = np.random.default_rng(6)
    jobs["time_limit_s"] = rng.choice([600.0, 3600.0, np.nan], len(jobs))
    jobs["req_cpus"] = pd.array(rng.choice([1, 4], len(jobs)), dtype="Int64")
    jobs.loc[jobs.index[::7], "req_cpus"] = pd.NA  # unknown CPUs: a request of its own
    got = history_features(jobs)
    cpus, limit = jobs["req_cpus"].astype("Float64").to_numpy(float, na_value=np.nan), jobs["time_limit_s"].to_numpy(float)
    equal = lambda a, b: (a == b) | (np.isnan(a) & np.isnan(b))  # noqa: E731
    made_before = 0
    for n, (i, job) in enumerate(jobs.iterrows()):
        same = (jobs["user"] == job["user"]).to_numpy(bool) & equal(cpus, cpus[n]) & equal(limit, limit[n])
        prior = jobs[same & (jobs["end_time"] < job["submit_time"])].sort_values("end_time", kind="stable")
        ratio = (prior["runtime_s"] / prior["time_limit_s"]).to_numpy(float)
        made_before += len(prior) > 0
        want = {
            "repeat_count_prior": float(len(prior)),
            "repeat_ratio_last2_max": ratio[-2:].max() if len(ratio) else np.nan,
            "repeat_ratio_last5_mean": ratio[-5:].mean() if len(ratio) else np.nan,
            "repeat_alea_last2_mean_s": job["time_limit_s"] * ratio[-2:].mean() if len(ratio) else np.nan,
        }
        for name, value in want.items():
            np.testing.assert_allclose(got.loc[i, name], value, rtol=1e-9, err_msg=f"{name} of job {i}")
    assert 20 < made_before < len(jobs) - 20  # both kinds of job are in the test

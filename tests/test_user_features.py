"""The user's own recent activity at submission: seconds since the previous submission, jobs in flight."""

import numpy as np
import pandas as pd
import pytest

from hpcpredict.features import build_features
from hpcpredict.features.history import since_last_submit_features
from hpcpredict.features.queue import USER_QUEUE_FEATURES, user_queue_features
from hpcpredict.metadata import feature_specs
from hpcpredict.schema import conform_jobs

GAP = "user_since_last_submit_s"
RUNNING, QUEUED = USER_QUEUE_FEATURES


def _t(seconds):
    return pd.NaT if seconds is None or pd.isna(seconds) else pd.Timestamp("2024-03-01", tz="UTC") + pd.Timedelta(seconds=seconds)


def _table(rows):
    """Jobs from (job_id, user, submit, start, end) in seconds; None for a missing value."""
    frame = pd.DataFrame(rows, columns=["job_id", "user", "submit", "start", "end"])
    return conform_jobs(
        pd.DataFrame(
            {
                "job_id": frame["job_id"],
                "user": frame["user"],
                "submit_time": [_t(s) for s in frame["submit"]],
                "start_time": [_t(s) for s in frame["start"]],
                "end_time": [_t(s) for s in frame["end"]],
                "time_limit_s": 1000.0,
            }
        )
    )


# user a: j0 runs 10-100; j1 is cancelled while pending at 50; j8 runs 45-55; a burst of three copies
# in second 60 that run 150-400; j5 submitted at 200 still waits; j9 at 300. User b: one job.
HAND = _table(
    [
        ("j0", "a", 0, 10, 100),
        ("j1", "a", 20, None, 50),
        ("j8", "a", 40, 45, 55),
        ("j2", "a", 60, 150, 400),
        ("j3", "a", 60, 150, 400),
        ("j4", "a", 60, 150, 400),
        ("j5", "a", 200, None, None),
        ("j9", "a", 300, None, None),
        ("j6", "b", 30, 30, 300),
        ("j7", None, 60, 70, 80),
    ]
)


def test_seconds_since_the_users_previous_submission_on_a_hand_made_table():
    gap = since_last_submit_features(HAND)[GAP].set_axis(HAND["job_id"])
    # first job of a user: NaN; the burst of copies in one second all see j8's 40; the job without user: NaN
    want = {"j0": np.nan, "j1": 20, "j8": 20, "j2": 20, "j3": 20, "j4": 20, "j5": 140, "j9": 100, "j6": np.nan, "j7": np.nan}
    np.testing.assert_array_equal(gap[list(want)].to_numpy(), np.array(list(want.values()), dtype=float))


def test_a_burst_reads_the_same_whatever_the_order_of_the_accounting():
    shuffled = HAND.sample(frac=1, random_state=3)
    gap = since_last_submit_features(shuffled)[GAP].set_axis(shuffled["job_id"])
    assert gap[["j2", "j3", "j4"]].tolist() == [20.0, 20.0, 20.0]
    pd.testing.assert_series_equal(gap.sort_index(), since_last_submit_features(HAND)[GAP].set_axis(HAND["job_id"]).sort_index())


def test_the_users_jobs_running_and_queued_at_submission_on_a_hand_made_table():
    got = user_queue_features(HAND).set_axis(HAND["job_id"])
    want = {
        # (running, queued) strictly before the submission, the job itself left out
        "j0": (0, 0),
        "j1": (1, 0),  # j0 runs
        "j8": (1, 1),  # j0 runs, j1 waits (cancelled later, at 50)
        "j2": (1, 0),  # j1 was cancelled, j8 ended; the copies of the same second do not count each other
        "j3": (1, 0),
        "j4": (1, 0),
        "j5": (3, 0),  # the three copies run; j0 ended
        "j9": (3, 1),  # j5 still waits; j5 itself saw no queued job of its own
        "j6": (0, 0),  # b's first job; a's jobs are not b's
        "j7": (np.nan, np.nan),  # no user
    }
    np.testing.assert_array_equal(got.loc[list(want)].to_numpy(), np.array(list(want.values()), dtype=float))


def test_small_tables_one_user_no_start_times_or_no_users():
    waiting = _table([("1", "a", 0, None, None), ("2", "a", 5, None, None), ("3", "a", 5, None, None)])
    got = user_queue_features(waiting)
    assert got[RUNNING].tolist() == [0.0, 0.0, 0.0] and got[QUEUED].tolist() == [0.0, 1.0, 1.0]
    assert since_last_submit_features(waiting)[GAP].isna().tolist() == [True, False, False]
    nobody = _table([("1", None, 0, 1, 2), ("2", None, 5, 6, 7)])
    assert user_queue_features(nobody).isna().all().all() and since_last_submit_features(nobody)[GAP].isna().all()
    # features missing for every job are left out of a feature table (and so of a model)
    assert not {GAP, RUNNING, QUEUED} & set(build_features(nobody, horizon="submit", optional=["user-activity"]).columns)
    assert user_queue_features(_table([])).empty


def test_they_are_built_only_when_asked_for_with_family_and_horizon():
    assert not {GAP, RUNNING, QUEUED} & set(build_features(HAND, horizon="submit").columns)
    assert {GAP, RUNNING, QUEUED} <= set(build_features(HAND, horizon="submit", optional="user-activity").columns)  # one name, not its letters
    specs = {f["name"]: f for f in feature_specs(build_features(HAND, horizon="submit", optional=["user-activity"]))}
    assert (specs[GAP]["family"], specs[RUNNING]["family"], specs[QUEUED]["family"]) == ("history", "queue", "queue")
    assert {specs[n]["horizon"] for n in (GAP, RUNNING, QUEUED)} == {"submit"}


@pytest.mark.parametrize("seed", [0, 1])
def test_user_features_equal_a_brute_force_reference(seed):
    rng = np.random.default_rng(seed)
    n = 160
    submit = np.sort(rng.integers(0, 20_000, n)).astype(float)
    submit[20:26] = submit[20]  # a burst in one second
    start = submit + rng.integers(0, 2_000, n)
    end = start + rng.integers(1, 5_000, n)
    cancelled = rng.random(n) < 0.1  # left the queue at "end" without starting
    start[cancelled] = np.nan
    waiting = rng.random(n) < 0.05  # still waiting: no start, no end
    start[waiting] = end[waiting] = np.nan
    users = rng.choice(["a", "b", "c", None], n, p=[0.4, 0.3, 0.2, 0.1])
    users[20:26] = "a"
    jobs = _table([(str(i), u, s, None if np.isnan(b) else b, None if np.isnan(e) else e) for i, (u, s, b, e) in enumerate(zip(users, submit, start, end))])
    jobs = jobs.sample(frac=1, random_state=seed)  # whatever the order of the accounting
    got = build_features(jobs, horizon="submit", optional=["user-activity"]).set_index(jobs.index)
    for i, job in jobs.iterrows():
        if pd.isna(job["user"]):
            assert got.loc[i, [GAP, RUNNING, QUEUED]].isna().all()
            continue
        h = job["submit_time"]
        mine = jobs[(jobs["user"] == job["user"]) & (jobs.index != i)]
        earlier = mine.loc[mine["submit_time"] < h, "submit_time"]
        leave = mine["start_time"].fillna(mine["end_time"])
        running = ((mine["start_time"] < h) & ~(mine["end_time"] < h).fillna(False)).sum()
        queued = ((mine["submit_time"] < h) & ~(leave < h).fillna(False)).sum()
        gap = (h - earlier.max()).total_seconds() if len(earlier) else np.nan
        np.testing.assert_array_equal(got.loc[i, [GAP, RUNNING, QUEUED]].to_numpy(float), [gap, running, queued], err_msg=f"job {job['job_id']}")
    assert got[RUNNING].max() > 1 and got[QUEUED].max() > 1


def test_the_cli_builds_the_group_when_asked_for(tmp_path):
    from typer.testing import CliRunner

    from hpcpredict.cli import app

    HAND.to_parquet(tmp_path / "jobs.parquet")
    for extra, expected in (([], set()), (["--with", "user-activity"], {GAP, RUNNING, QUEUED})):
        out = tmp_path / f"features{len(extra)}.parquet"
        result = CliRunner().invoke(app, ["features", "--jobs", str(tmp_path / "jobs.parquet"), "-o", str(out), *extra])
        assert result.exit_code == 0, result.output
        assert {GAP, RUNNING, QUEUED} & set(pd.read_parquet(out).columns) == expected

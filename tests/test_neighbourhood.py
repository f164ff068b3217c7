"""Network state in the groups a job spans, before its start: brute force and leakage."""

import numpy as np
import pandas as pd

from hpcpredict.features.neighbourhood import NEIGHBOURHOOD_WINDOWS, neighbourhood_features
from hpcpredict.schema import conform_jobs
from hpcpredict.metadata import with_metadata

T0 = pd.Timestamp("2025-01-06", tz="UTC")


def _world(seed=3):
    rng = np.random.default_rng(seed)
    hosts = [f"n{i:02d}" for i in range(12)]
    topology = pd.DataFrame({"component": hosts, "router": [f"r{i // 2}" for i in range(12)], "group": [f"g{i // 4}" for i in range(12)]})
    times = T0 + pd.to_timedelta(np.arange(0, 3 * 3600, 60), unit="s")
    samples = pd.DataFrame([(t, h) for t in times for h in hosts], columns=["timestamp", "component"])
    samples["net_stalls_per_s"] = rng.gamma(2.0, 50.0, len(samples))
    samples["net_flits_per_s"] = rng.gamma(5.0, 400.0, len(samples))
    with_metadata(samples, metrics=[
        {"column": "net_stalls_per_s", "role": "net_stalls"},
        {"column": "net_flits_per_s", "role": "net_flits"},
    ])
    starts = T0 + pd.to_timedelta(rng.uniform(1800, 3 * 3600, 25), unit="s")
    jobs = conform_jobs(
        pd.DataFrame(
            {
                "job_id": [str(i) for i in range(25)],
                "submit_time": starts - pd.Timedelta(minutes=5),
                "start_time": starts,
                "end_time": starts + pd.Timedelta(minutes=30),
                "nodelist": [list(rng.choice(hosts, rng.integers(1, 6), replace=False)) for _ in range(25)],
            }
        )
    )
    return jobs, samples, topology


def _brute_force(jobs, samples, topology, width):
    group_of = topology.set_index("component")["group"]
    rows = []
    for _, job in jobs.iterrows():
        groups = set(group_of[job["nodelist"]])
        hosts = set(topology.loc[topology["group"].isin(groups), "component"])
        h = job["start_time"].timestamp()
        lo, hi = np.ceil((h - width) / 60) * 60, np.floor(h / 60) * 60  # whole buckets before the start
        lo = max(lo, T0.timestamp())  # the rate is averaged over the part of the window with samples
        t = samples["timestamp"].map(pd.Timestamp.timestamp)
        inside = samples["component"].isin(hosts) & (t >= lo) & (t < hi)
        stalls, flits = samples.loc[inside, "net_stalls_per_s"].sum(), samples.loc[inside, "net_flits_per_s"].sum()
        rows.append((stalls / flits, stalls / ((hi - lo) / 60 * len(groups))))
    return np.array(rows)


def test_group_network_state_equals_a_brute_force_reference():
    jobs, samples, topology = _world()
    got = neighbourhood_features(jobs, samples, topology)
    for label, width in NEIGHBOURHOOD_WINDOWS.items():
        want = _brute_force(jobs, samples, topology, width)
        np.testing.assert_allclose(got[f"group_net_stall_flit_ratio_{label}_at_start"], want[:, 0], rtol=1e-9)
        np.testing.assert_allclose(got[f"group_net_stalls_per_s_{label}_at_start"], want[:, 1], rtol=1e-9)


def test_samples_at_or_after_the_start_do_not_change_the_features():
    jobs, samples, topology = _world()
    before = neighbourhood_features(jobs, samples, topology)
    probe = 0
    start = jobs.loc[probe, "start_time"]
    changed = samples.copy()
    later = changed["timestamp"] >= start.floor("60s")
    changed.loc[later, "net_stalls_per_s"] *= 50
    after = neighbourhood_features(jobs, changed, topology)
    pd.testing.assert_series_equal(before.loc[probe], after.loc[probe])
    earlier = changed["timestamp"] < start.floor("60s") - pd.Timedelta(minutes=2)
    changed.loc[earlier, "net_stalls_per_s"] *= 50  # the test can fail: the past does count
    assert not neighbourhood_features(jobs, changed, topology).loc[probe].equals(before.loc[probe])

"""The backfilling replay on hand-made scenarios whose EASY and conservative choices are known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hpcpredict.errors import ParameterError
from hpcpredict.schedule import Profile, compare_predictors, replay_schedule, summarize_run, workload_from_jobs
from hpcpredict.schedule.policies import extend_predictions


def _workload(rows, nodes):
    """rows: (submit_s, nodes, runtime_s, limit_s)."""
    submit, size, runtime, limit = zip(*rows)
    jobs = pd.DataFrame(
        {
            "job_id": [f"j{i}" for i in range(len(rows))],
            "user": "u",
            "submit_time": pd.to_datetime(list(submit), unit="s", utc=True),
            "runtime_s": list(map(float, runtime)),
            "time_limit_s": list(map(float, limit)),
            "req_nodes": list(size),
        }
    )
    return workload_from_jobs(jobs, nodes=nodes)


def _starts(workload, predicted=None, policy="easy"):
    predicted = workload.limit_s if predicted is None else predicted
    return replay_schedule(workload, np.asarray(predicted, dtype=float), policy=policy).start_s.tolist()


def test_a_short_job_backfills_beside_the_running_one():
    # a holds 3 of 4 nodes until 100; b needs all 4 and waits; c (1 node, ends by 12) fits before.
    w = _workload([(0, 3, 100, 100), (1, 4, 100, 100), (2, 1, 10, 10)], nodes=4)
    assert _starts(w) == [0.0, 100.0, 2.0]


def test_a_backfill_that_would_delay_the_head_job_does_not_happen():
    # c asks for 200 s: started at 2 it would hold a node past b's reservation at 100.
    w = _workload([(0, 3, 100, 100), (1, 4, 100, 100), (2, 1, 10, 200)], nodes=4)
    assert _starts(w) == [0.0, 100.0, 200.0]
    # Planned with its real runtime (the oracle) the same job backfills: the prediction's worth.
    assert _starts(w, predicted=w.runtime_s) == [0.0, 100.0, 2.0]


def test_a_long_job_backfills_on_the_extra_nodes_the_head_job_leaves():
    # b needs 3 of 4 at 100: one node is extra. c takes it (ending after 100); d cannot.
    w = _workload([(0, 2, 100, 100), (1, 3, 100, 100), (2, 1, 1000, 1000), (3, 1, 1000, 1000)], nodes=4)
    assert _starts(w) == [0.0, 100.0, 2.0, 200.0]


def test_conservative_protects_every_queued_job_easy_only_the_first():
    # b is first in line, c second; d (500 s on 1 node) fits EASY's extra node but would push c back.
    rows = [(0, 2, 100, 100), (1, 3, 100, 100), (2, 4, 10, 10), (3, 1, 500, 500)]
    w = _workload(rows, nodes=4)
    assert _starts(w, policy="easy") == [0.0, 100.0, 503.0, 3.0]
    assert _starts(w, policy="conservative") == [0.0, 100.0, 200.0, 210.0]


def test_a_job_that_outlives_its_limit_is_killed_there():
    w = _workload([(0, 4, 500, 100), (0, 4, 50, 100)], nodes=4)
    assert w.runtime_s.tolist() == [100.0, 50.0]
    run = replay_schedule(w, w.limit_s)
    assert run.start_s.tolist() == [0.0, 100.0]
    assert summarize_run(run)["utilisation"] == pytest.approx(150 * 4 / (150 * 4))


def test_an_underestimated_prediction_is_extended_in_steps_and_the_head_is_delayed():
    # a is predicted to run 100 s but runs 1000 s; at 200 its prediction has grown to 300 s, so c
    # (250 s) cannot backfill before b, while d (50 s) can; b, promised 100, starts at 1000.
    rows = [(0, 3, 1000, 5000), (1, 4, 100, 100), (200, 1, 250, 250), (201, 1, 50, 50)]
    w = _workload(rows, nodes=4)
    run = replay_schedule(w, np.array([100.0, 100.0, 250.0, 50.0]))
    assert run.start_s.tolist() == [0.0, 1000.0, 1100.0, 201.0]
    assert run.first_reservation_s[1] == 100.0
    assert run.delayed_by_underestimate.tolist() == [False, True, False, False]
    assert summarize_run(run)["delayed_by_underestimate"] == 1


def test_extension_steps_cap_at_the_limit_and_pass_the_elapsed_time():
    class State:
        start_s = np.zeros(3)
        pred_s = np.array([100.0, 100.0, 100.0])
        limit_s = np.array([np.inf, 250.0, np.inf])

    state = State()
    extend_predictions(200.0, np.arange(2), state)
    assert state.pred_s.tolist() == [300.0, 250.0, 100.0]  # job 2 is not running: untouched
    extend_predictions(400_000.0, np.array([0]), state)
    assert state.pred_s[0] == 800_000.0


def test_exact_predictions_never_delay_a_reservation():
    rng = np.random.default_rng(0)
    n = 400
    rows = list(zip(np.sort(rng.integers(0, 20_000, n)), rng.integers(1, 17, n), rng.integers(1, 3000, n), np.full(n, 3000)))
    w = _workload(rows, nodes=16)
    for policy in ("easy", "conservative"):
        for predicted in (w.limit_s, w.runtime_s):
            run = replay_schedule(w, predicted, policy=policy)
            assert not run.delayed_by_underestimate.any()
            assert (run.start_s >= w.submit_s).all()
            _assert_never_oversubscribed(w, run.start_s)


def _assert_never_oversubscribed(w, starts):
    events = sorted([(s, w.size[i]) for i, s in enumerate(starts)] + [(s + w.runtime_s[i], -w.size[i]) for i, s in enumerate(starts)], key=lambda e: (e[0], e[1]))
    used = 0
    for _, delta in events:
        used += delta
        assert used <= w.machine_size


def test_profile_finds_the_earliest_window_and_keeps_reservations():
    p = Profile(0.0, 4, [(100.0, 3), (50.0, 1)])  # 0 free now, 1 from 50, 4 from 100
    assert p.earliest(1, 30.0) == 50.0
    assert p.earliest(2, 30.0) == 100.0
    p.reserve(100.0, 100.0, 4)
    assert p.earliest(1, 60.0) == 200.0  # [50,100) is too short for 60 s
    assert p.earliest(1, 40.0) == 50.0
    assert p.free_at(150.0) == 0


def test_jobs_the_replay_cannot_place_are_counted_not_dropped():
    jobs = pd.DataFrame(
        {
            "job_id": ["ok", "huge", "nosize"],
            "submit_time": pd.to_datetime([0, 1, 2], unit="s", utc=True),
            "runtime_s": [10.0, 10.0, 10.0],
            "time_limit_s": [10.0, 10.0, 10.0],
            "req_nodes": [1, 9, None],
        }
    )
    w = workload_from_jobs(jobs, nodes=8)
    assert len(w) + sum(w.set_aside.values()) == 3
    assert w.set_aside == {"no size in nodes": 1, "larger than the machine (8 nodes)": 1}


def test_the_swf_header_gives_the_machine_size(kth_slice):
    out = compare_predictors(kth_slice, predictors=["limit", "oracle"])
    assert (out["machine_size"], out["unit"], out["machine_source"]) == (100, "processors", "SWF header MaxProcs")
    limit, oracle = out["results"]
    assert limit["delayed_by_underestimate"] == oracle["delayed_by_underestimate"] == 0
    assert oracle["mean_bounded_slowdown"] < limit["mean_bounded_slowdown"]
    assert out["recorded"]["jobs"] == out["jobs"]


def test_predictions_must_match_the_jobs():
    w = _workload([(0, 1, 10, 10)], nodes=1)
    with pytest.raises(ParameterError, match="one prediction per job"):
        replay_schedule(w, [1.0, 2.0])
    with pytest.raises(ParameterError, match="'policy'"):
        replay_schedule(w, [1.0], policy="fifo")


def test_jobs_without_a_limit_run_under_the_site_default():
    # No limit on b: it gets the largest limit in the trace (300 s) and is planned with it.
    w = _workload([(0, 1, 50, 300), (0, 1, 100, float("nan"))], nodes=2)
    assert w.limit_s.tolist() == [300.0, 300.0] and w.default_limit_jobs == 1
    # No limit anywhere (the NASA iPSC trace): the longest runtime is the default.
    none = _workload([(0, 1, 50, float("nan")), (0, 1, 100, float("nan"))], nodes=2)
    assert none.limit_s.tolist() == [100.0, 100.0] and none.default_limit_jobs == 2
    assert _starts(none) == [0.0, 0.0]


def test_an_extended_swf_with_node_lists_counts_processors_on_alea_machines(tmp_path):
    # Alea's extended SWF (the CERIT-SC trace) lists each job's hosts, so ingest knows node counts
    # for every job; the nodes are shared by jobs (ppn=12 on an 80-CPU node), so the replay must
    # count processors and size the machine from the .machines file in CPUs (2 x 80 + 1 x 12).
    from hpcpredict.schedule import load_workload

    rows = [
        "0 0 0 100 64 1 1024 64 200 -1 1 1 1 1 -1 1 1 1 {7,7,7,7} q_1d 1:ppn=64",
        "1 10 0 100 12 1 1024 12 200 -1 1 2 1 1 -1 1 1 1 {3} q_1d 1:ppn=12",
        "2 20 0 100 1 1 1024 1 200 -1 1 3 1 1 -1 1 1 1 {3} q_1d 1:ppn=1",
    ]
    trace = tmp_path / "x.swf"
    trace.write_text("\n".join(rows) + "\n")
    (tmp_path / "x.swf.machines").write_text("0\tbig\t2\t80\t1\t1\n1\tsmall\t1\t12\t1\t1\n")
    w = load_workload(trace)
    assert (w.unit, w.machine_size, len(w)) == ("processors", 172, 3)
    assert w.size.tolist() == [64, 12, 1]

"""The three queue formats as real Slurm 22.05 printed one queue (tests/data/live-slurm/README.md).

The capture holds a pending array ``10_[1-5%2]``, a het job ``12+0/12+1`` (JSON: 12 and 13), GPU
requests by ``--gres`` (14) and ``--gpus`` (15), ``--mem-per-cpu`` (16) against ``--mem`` (17),
a held job (9) and a job named ``pipe|name`` (20).
"""

from __future__ import annotations

import warnings

import pytest

from hpcpredict.queue.formats import QueueLineSkipped, read_queue

from conftest import DATA

LIVE = DATA / "live-slurm"
TASKS = {"10_1", "10_2", "10_3", "10_4", "10_5"}
MB = 1024**2


@pytest.fixture(scope="module")
def queues():
    return {name: read_queue(LIVE / name).set_index("job_id")
            for name in ("squeue.json", "squeue.txt", "sacct-pending.txt", "squeue-fields-jobid.txt")}


def test_a_pipe_in_a_name_no_longer_makes_the_file_unreadable(queues):
    assert queues["squeue.txt"].loc["20", "app"] == "pipe|name"


def test_an_unrepairable_line_is_left_out_with_a_warning(tmp_path):
    text = (LIVE / "squeue.txt").read_text().replace("fake:1|Priority", "fake:1|Prio|rity")
    bad = tmp_path / "squeue.txt"
    bad.write_text(text)
    with pytest.warns(QueueLineSkipped, match=r"line 5: expected 14 fields, found 15"):
        jobs = read_queue(bad)
    assert "14" not in set(jobs["job_id"]) and "15" in set(jobs["job_id"])


def test_formats_agree_on_ids_one_row_per_array_task(queues):
    json_ids, text_ids, sacct_ids = (set(queues[n].index) for n in ("squeue.json", "squeue.txt", "sacct-pending.txt"))
    assert TASKS <= json_ids and TASKS <= text_ids and TASKS <= sacct_ids
    assert {"12+0", "12+1"} <= json_ids & text_ids & sacct_ids
    assert json_ids == text_ids  # sacct's pending list misses the held job 9 (docs/queue.md)
    assert sacct_ids == text_ids - {"9"}
    for queue in queues.values():
        if "10_3" in queue.index:
            assert (queue.loc["10_3", "array_job_id"], queue.loc["10_3", "array_task_id"]) == ("10", "3")


def test_memory_is_the_job_total_where_the_format_says_so(queues):
    # --mem-per-cpu=300 on 2 CPUs and --mem=600: both 600 MB in total
    for name in ("squeue.json", "sacct-pending.txt", "squeue-fields-jobid.txt"):
        assert queues[name].loc[["16", "17"], "req_mem_bytes"].tolist() == [600 * MB, 600 * MB], name


def test_gpu_request_is_read_from_every_format(queues):
    for name in ("squeue.json", "sacct-pending.txt", "squeue-fields-jobid.txt"):
        assert queues[name].loc[["14", "15", "17"], "req_gpus"].tolist() == [1, 2, 0], name
    # %b shows per-node GRES only: --gpus (per job) is not in it
    assert queues["squeue.txt"].loc[["14", "17"], "req_gpus"].tolist() == [1, 0]


def test_percent_m_is_known_only_where_a_job_has_one_cpu_per_node(queues):
    """``%m`` without ``tres-alloc``: per CPU or per node, and no other SQUEUE_FORMAT field tells."""
    text, truth = queues["squeue.txt"], queues["squeue.json"]
    # --mem-per-cpu=300 and --mem=600, each on 2 CPUs of 1 node: every request field but %m is alike
    same = ["partition", "qos", "time_limit_s", "req_nodes", "req_cpus", "state", "reason"]
    assert text.loc["16", same].tolist() == text.loc["17", same].tolist()
    one_per_node = text.index[text["req_cpus"] == text["req_nodes"]]
    assert len(one_per_node) >= 10  # where both readings agree, the per-node reading is the total
    assert (text.loc[one_per_node, "req_mem_bytes"] == truth.loc[one_per_node, "req_mem_bytes"]).all()
    # more CPUs than nodes: read per node, right for --mem, %C/%D times too small for --mem-per-cpu
    assert text.loc[["16", "17"], "req_mem_bytes"].tolist() == [300 * MB, 600 * MB]

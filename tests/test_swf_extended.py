"""SWF variants: the Alea extended format, gzip with header comments."""

import pandas as pd

from hpcpredict.ingest import read_swf

from conftest import DATA


def test_alea_extended_swf_gives_node_lists_queues_and_requests():
    result = read_swf(DATA / "cerit-wagap-2013-first30.swf")
    assert result.counts == {"lines_read": 30, "jobs": 30, "quarantined": 0, "duplicates_merged": 0}
    first = result.jobs.iloc[0]
    # "0 1356996147 0 56011 64 1 1024 64 86400 68719476736 1 62 ... {1241,...x64} q_1d 1:ppn=64:x86_64:cl_zewura#excl"
    assert first["nodelist"] == ["1241"] and first["alloc_nodes"] == 1
    assert first["partition"] == "q_1d" and first["pbs_resource_request"] == "1:ppn=64:x86_64:cl_zewura#excl"
    assert first["req_mem_bytes"] == 64 * 1024**3  # bytes in this variant, not KB per processor
    assert first["submit_time"] == pd.Timestamp(1356996147, unit="s", tz="UTC")
    assert first["runtime_s"] == 56011 and first["req_cpus"] == 64


def test_gzip_with_header_comments_anchors_times():
    result = read_swf(DATA / "hpc2n-2002-first40.swf.gz")
    assert result.counts["jobs"] == 40 and result.metadata["headers"]
    first = result.jobs.iloc[0]
    assert first["submit_time"] == pd.Timestamp(1027839845, unit="s", tz="UTC")  # UnixStartTime + 0
    assert first["runtime_s"] == 31405 and first["time_limit_s"] == 37980

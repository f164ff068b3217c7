"""Streaming LDMS ingest (``hpcpredict ingest ldms``): the in-memory reader's folder, in bounded memory."""

import importlib
import json
import shutil

import pandas as pd
import pytest

from hpcpredict.errors import InputFileError
from hpcpredict.ingest import quarantine_path, read_ldms, stream_ldms
from hpcpredict.simulate import simulate

from conftest import DATA

LDMS = DATA / "ldms"
stream_module = importlib.import_module("hpcpredict.ingest.ldms_stream")


@pytest.fixture(scope="module")
def sim_ldms(tmp_path_factory):
    """Five simulated days of four samplers on 64 hosts, counter resets included."""
    out = tmp_path_factory.mktemp("sim") / "sim"
    simulate(out, preset="tiny", seed=0)
    return out / "ldms"


def _assert_same_folder(memory, streamed):
    days = sorted(p.name for p in memory.glob("samples-*.parquet"))
    assert days and days == sorted(p.name for p in streamed.glob("samples-*.parquet"))
    for day in days:
        pd.testing.assert_frame_equal(pd.read_parquet(memory / day), pd.read_parquet(streamed / day))
    meta = [json.loads((folder / "_metrics.json").read_text()) for folder in (memory, streamed)]
    assert meta[0]["metrics"] == meta[1]["metrics"] and meta[0]["counts"] == meta[1]["counts"]
    pd.testing.assert_frame_equal(pd.read_parquet(quarantine_path(memory)), pd.read_parquet(quarantine_path(streamed)))


@pytest.mark.parametrize("source", ["fixture", "simulated"])
def test_streamed_folder_equals_the_in_memory_one(source, sim_ldms, tmp_path):
    files = LDMS if source == "fixture" else sim_ldms  # fixture: bad lines, a rollover, a .HEADER file
    counts = read_ldms(files, tmp_path / "memory").counts
    assert stream_ldms(files, tmp_path / "streamed") == counts
    _assert_same_folder(tmp_path / "memory", tmp_path / "streamed")
    if source == "fixture":
        assert counts["quarantined"] == 2 and counts["lines_read"] == 42


def test_memory_holds_about_one_file_per_sampler(sim_ldms, tmp_path, monkeypatch):
    """The raw rows waiting for other samplers never exceed ~2 days of one sampler's rows."""
    peak = [0]
    add = stream_module._Walk.add

    def watched(self, sampler, frame, path):
        add(self, sampler, frame, path)
        held = sum(len(p) for s in self.samplers for p in s.pending) + sum(len(p) for d in self.days.values() for p in d)
        peak[0] = max(peak[0], held)

    monkeypatch.setattr(stream_module._Walk, "add", watched)
    counts = stream_ldms(sim_ldms, tmp_path / "s")
    files = [f for f in sim_ldms.rglob("*") if f.is_file()]
    samplers = {f.parent.name for f in files}
    assert len(files) == 5 * len(samplers)  # a file per sampler and day
    per_file = counts["lines_read"] / len(files)
    assert 0 < peak[0] <= 2 * len(samplers) * per_file  # two days' files; the whole record is 2.5x that


def test_an_interrupted_ingest_leaves_no_folder(sim_ldms, tmp_path, monkeypatch):
    read_one = stream_module.read_one
    calls = [0]

    def failing(*args, **kwargs):
        calls[0] += 1
        if calls[0] == 9:
            raise KeyboardInterrupt
        return read_one(*args, **kwargs)

    monkeypatch.setattr(stream_module, "read_one", failing)
    with pytest.raises(KeyboardInterrupt):
        stream_ldms(sim_ldms, tmp_path / "samples")
    assert not (tmp_path / "samples").exists()
    assert [p.name for p in tmp_path.iterdir()] == []  # no half folder left beside it either


def test_files_out_of_time_order_are_an_error_naming_the_file(tmp_path):
    # a later roll-over file (by name) holding the older samples: streaming cannot place them
    folder = tmp_path / "ldms"
    folder.mkdir()
    shutil.copy(LDMS / "meminfo.1700000000", folder / "meminfo.1700000000")
    lines = (LDMS / "meminfo.1700000000").read_text().splitlines()
    early = [lines[0]] + [line.replace("1700000", "1699990", 1) for line in lines[1:]]
    (folder / "meminfo.1700000300").write_text("\n".join(early) + "\n")
    with pytest.raises(InputFileError, match=r"meminfo\.1700000300.*older than samples already written"):
        stream_ldms(folder, tmp_path / "s")
    assert not (tmp_path / "s").exists()


def test_repeated_records_across_files_are_counted_as_merged(tmp_path):
    folder = tmp_path / "ldms"
    folder.mkdir()
    lines = (LDMS / "meminfo.1700000000").read_text().splitlines()
    (folder / "meminfo.1700000000").write_text("\n".join(lines) + "\n")
    last_per_host = lines[-2:]  # the last minute of both hosts, written again at the top of the next file
    (folder / "meminfo.1700000300").write_text("\n".join([lines[0], *last_per_host]) + "\n")
    counts = stream_ldms(folder, tmp_path / "s")
    assert counts["duplicates_merged"] == 2 and counts["lines_read"] == len(lines) - 1 + 2
    assert counts["records"] + counts["quarantined"] + counts["duplicates_merged"] == counts["lines_read"]
    assert counts == read_ldms(folder).counts


def test_streaming_on_dask_gives_the_same_folder(sim_ldms, tmp_path):
    pytest.importorskip("distributed")
    stream_ldms(sim_ldms, tmp_path / "local")
    stream_ldms(sim_ldms, tmp_path / "dask", dask="local:2")
    for day in sorted(p.name for p in (tmp_path / "local").glob("samples-*.parquet")):
        pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "local" / day), pd.read_parquet(tmp_path / "dask" / day))

"""`-o` never destroys: it replaces only what hpcpredict wrote, atomically, and never an input."""

import os
import shutil
import subprocess
import sys

import pandas as pd
import pytest

import hpcpredict as hp
from hpcpredict._atomic import atomic_dir, remove_stale
from hpcpredict.errors import OutputPathError
from hpcpredict.ingest import ingest, ingest_samples, quarantine_path, read_quarantine

from conftest import DATA


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "hpcpredict", *map(str, args)], capture_output=True, text=True, cwd=cwd)


def refused(out, path):
    """One line, exit 2, naming the path; no traceback."""
    assert out.returncode == 2, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: refusing to write {path}"), out.stderr
    assert "Traceback" not in out.stderr


@pytest.fixture
def thesis(tmp_path):
    """A folder of the user's own work."""
    d = tmp_path / "d"
    (d / "sub").mkdir(parents=True)
    (d / "thesis.tex").write_text("chapter 1")
    (d / "sub" / "fig.pdf").write_text("%PDF")
    return d


def contents(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def dead_pid():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_train_into_a_folder_of_user_files_is_refused_and_the_files_stay(pipeline, thesis):
    before = contents(thesis)
    refused(run("train", pipeline["features"], "-o", thesis, "--n-estimators", "5"), thesis)
    assert contents(thesis) == before and (thesis / "thesis.tex").read_text() == "chapter 1"


def test_ingest_ldms_and_simulate_into_user_folders_are_refused(thesis):
    before = contents(thesis)
    with pytest.raises(OutputPathError, match="folder hpcpredict did not write"):
        ingest_samples("ldms", [DATA / "ldms"], thesis)
    with pytest.raises(OutputPathError, match="folder hpcpredict did not write"):
        hp.api.simulate(thesis, preset="tiny")
    assert contents(thesis) == before


def test_every_writer_refuses_a_foreign_file_or_folder(pipeline, tmp_path, thesis):
    notes = tmp_path / "notes.txt"
    notes.write_text("keep me")
    with pytest.raises(OutputPathError, match="file hpcpredict did not write"):
        ingest("swf", [DATA / "kth-sp2-first3000.swf"], notes)
    with pytest.raises(OutputPathError, match="file hpcpredict did not write"):
        hp.api.features(pipeline["jobs"], notes)
    with pytest.raises(OutputPathError, match="file hpcpredict did not write"):
        hp.predict(pipeline["model"], pipeline["features"], notes)
    with pytest.raises(OutputPathError, match="file hpcpredict did not write"):
        hp.api.report(pipeline["model"], pipeline["features"], notes)
    with pytest.raises(OutputPathError, match="it is a file; this output is a folder"):
        hp.train(pipeline["features"], notes, n_estimators=5)
    with pytest.raises(OutputPathError, match="folder hpcpredict did not write"):
        hp.api.explain(pipeline["model"], pipeline["features"], thesis)
    with pytest.raises(OutputPathError, match="folder hpcpredict did not write"):
        hp.demo(thesis, preset="tiny")
    assert notes.read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d", "notes.txt"]  # nothing moved aside


def test_an_output_that_is_an_input_is_refused(pipeline, tmp_path):
    swf = tmp_path / "log.swf"
    shutil.copy(DATA / "kth-sp2-first3000.swf", swf)
    before = swf.read_bytes()
    refused(run("ingest", "swf", swf, "-o", swf), swf)
    sacct = tmp_path / "acct.txt"
    shutil.copy(DATA / "sacct-parsable2.txt", sacct)
    with pytest.raises(OutputPathError, match="is also an input"):
        ingest("sacct", [sacct], sacct)
    # The quarantine written beside acct.parquet would overwrite this input.
    named = tmp_path / "acct.quarantine.parquet"
    shutil.copy(pipeline["jobs"], named)
    with pytest.raises(OutputPathError, match="is also an input"):
        ingest("table", [named], tmp_path / "acct.parquet", preset="nrel-eagle")
    features = tmp_path / "f.parquet"
    shutil.copy(pipeline["features"], features)
    with pytest.raises(OutputPathError, match="is also an input"):
        hp.train(features, features, n_estimators=5)
    assert swf.read_bytes() == before and sacct.read_text() == (DATA / "sacct-parsable2.txt").read_text()


def test_an_output_holding_an_input_or_the_current_folder_is_refused(pipeline, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(pipeline["features"], work / "f.parquet")
    refused(run("train", "f.parquet", "-o", "../work", "--n-estimators", "5", cwd=work), "../work")
    assert (work / "f.parquet").is_file()
    shutil.copytree(DATA / "ldms", tmp_path / "ldms")
    with pytest.raises(OutputPathError, match="lies inside the input folder"):
        ingest_samples("ldms", [tmp_path / "ldms"], tmp_path / "ldms" / "samples")


def test_a_special_file_is_never_replaced(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    for target in ("/dev/null", fifo):
        refused(run("ingest", "swf", DATA / "kth-sp2-first3000.swf", "-o", target), target)
    assert fifo.is_fifo() and os.path.exists("/dev/null") and not os.path.isfile("/dev/null")


def test_an_own_output_is_replaced_and_an_empty_folder_is_used(tmp_path):
    out = tmp_path / "jobs.parquet"
    first = ingest("swf", [DATA / "cerit-wagap-2013-first30.swf"], out)
    second = ingest("swf", [DATA / "kth-sp2-first3000.swf"], out)
    assert first["jobs"] != second["jobs"] and len(pd.read_parquet(out)) == second["jobs"]
    empty = tmp_path / "samples"
    empty.mkdir()
    assert ingest_samples("ldms", [DATA / "ldms"], empty)["samples"] > 0
    assert ingest_samples("ldms", [DATA / "ldms"], empty)["samples"] > 0  # its own folder, replaced
    assert sorted(p.name for p in tmp_path.iterdir()) == ["jobs.parquet", "jobs.quarantine.parquet", "samples", "samples.quarantine.parquet"]


def test_a_dead_runs_temp_files_are_removed_and_a_moved_aside_folder_comes_back(tmp_path):
    pid = dead_pid()
    out = tmp_path / "jobs.parquet"
    stale = [tmp_path / f".jobs.parquet.hpcp-{pid}-abc.part", tmp_path / f".jobs.parquet.hpcp-{pid}-abc.records",
             tmp_path / f".jobs.quarantine.parquet.hpcp-{pid}-x.part"]
    for p in stale:
        p.write_bytes(b"x" * 1000)
    mine = tmp_path / f".jobs.parquet.hpcp-{os.getpid()}-live.part"  # a run still going: left alone
    mine.write_bytes(b"x")
    ingest("sacct", [DATA / "sacct-parsable2.txt"], out)
    assert not any(p.exists() for p in stale) and mine.exists()
    model = tmp_path / "model"
    aside = tmp_path / f".model.hpcp-{pid}-q.old"
    aside.mkdir()
    (aside / "model.ubj").write_text("old model")
    assert remove_stale(model) == [] and (model / "model.ubj").read_text() == "old model"


def test_a_folder_swap_keeps_the_old_one_until_the_new_one_is_complete(tmp_path):
    target = tmp_path / "model"
    with atomic_dir(target) as tmp:
        (tmp / "a").write_text("old")
    with atomic_dir(target) as tmp:
        (tmp / "a").write_text("new")
        assert (target / "a").read_text() == "old"  # still there while the new one is written
    assert (target / "a").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_a_kill_between_the_jobs_table_and_its_quarantine_is_seen(tmp_path, monkeypatch):
    out = tmp_path / "jobs.parquet"
    ingest("sacct", [DATA / "sacct-parsable2.txt"], out)
    assert len(read_quarantine(out)) == len(pd.read_parquet(quarantine_path(out)))
    old_jobs = pd.read_parquet(out)
    real_replace, calls = os.replace, []

    def killed_after_first(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise KeyboardInterrupt  # the kill lands between the two renames
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", killed_after_first)
    with pytest.raises(KeyboardInterrupt):
        ingest("swf", [DATA / "kth-sp2-first3000.swf"], out)
    monkeypatch.undo()
    pd.testing.assert_frame_equal(pd.read_parquet(out), old_jobs)  # the jobs table is still whole, and old
    with pytest.raises(hp.errors.InputFileError, match="belongs to another run"):
        read_quarantine(out)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    ingest("swf", [DATA / "kth-sp2-first3000.swf"], out)
    assert len(read_quarantine(out)) == 0


def test_collect_refuses_a_table_it_did_not_write(tmp_path):
    """`collect TABLE` replaces TABLE: a file hpcpredict did not write is refused before sacct runs."""
    notes = tmp_path / "notes.txt"
    notes.write_text("my thesis\n")
    out = run("collect", notes, "--since", "2026-01-01T00:00:00", "--sacct", tmp_path / "no-sacct")
    refused(out, notes)
    assert notes.read_text() == "my thesis\n"

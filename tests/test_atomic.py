import pandas as pd
import pytest

from hpcpredict._atomic import atomic_dir, atomic_path, write_parquet


def test_an_interrupted_write_leaves_neither_a_half_file_nor_debris(tmp_path):
    target = tmp_path / "t.parquet"
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"PAR1 half")
            raise RuntimeError("killed")
    assert list(tmp_path.iterdir()) == []


def test_an_interrupted_write_keeps_the_previous_version(tmp_path):
    target = tmp_path / "t.parquet"
    write_parquet(pd.DataFrame({"a": [1]}), target)
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"junk")
            raise RuntimeError("killed")
    assert pd.read_parquet(target)["a"].tolist() == [1]


def test_an_interrupted_directory_write_keeps_the_old_directory(tmp_path):
    target = tmp_path / "model"
    with atomic_dir(target) as tmp:
        (tmp / "a").write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_dir(target) as tmp:
            (tmp / "a").write_text("new")
            raise RuntimeError("killed")
    assert (target / "a").read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["model"]

"""Shared fixtures: small real data and a pipeline run once per test session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
REPO = Path(__file__).parent.parent
SHARED_REAL = REPO.parent / "shared" / "data" / "real"


@pytest.fixture(scope="session")
def kth_slice() -> Path:
    """Header and first 3,000 jobs of the KTH-SP2 SWF trace (see tests/data/README.md)."""
    return DATA / "kth-sp2-first3000.swf"


@pytest.fixture(scope="session")
def kth_full() -> Path:
    """The whole KTH-SP2 trace shipped in data/."""
    return REPO / "data" / "kth-sp2" / "KTH-SP2-1996-2.1-cln.swf.gz"


@pytest.fixture(scope="session")
def pipeline(tmp_path_factory, kth_slice):
    """ingest → features → train on the KTH slice, once; returns the paths."""
    import hpcpredict as hp

    out = tmp_path_factory.mktemp("pipeline")
    paths = {"jobs": out / "jobs.parquet", "features": out / "features.parquet", "model": out / "model"}
    hp.api.ingest("swf", [kth_slice], paths["jobs"])
    hp.api.features(paths["jobs"], paths["features"], horizon="submit")
    hp.train(paths["features"], paths["model"], n_estimators=300)
    return paths


def pytest_collection_modifyitems(config, items):
    """Skip ``slurm``-marked tests without a live cluster (``HPCP_LIVE``, set by ``make
    test-slurm``), and ``gpu``-marked tests unless XGBoost can train on a CUDA device here."""
    if not os.environ.get("HPCP_LIVE"):
        no_live = pytest.mark.skip(reason="no live Slurm: HPCP_LIVE is unset (run `make test-slurm`)")
        for item in items:
            if "slurm" in item.keywords:
                item.add_marker(no_live)
    gpu = [item for item in items if "gpu" in item.keywords]
    if not gpu:
        return
    from hpcpredict.scale import cuda_available

    if cuda_available():
        return
    skip = pytest.mark.skip(reason="no CUDA device: XGBoost cannot train with device='cuda' here")
    for item in gpu:
        item.add_marker(skip)

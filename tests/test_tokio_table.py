"""The TOKIO Cori per-job table path on a few hundred real rows from ../shared (skipped when absent)."""

import re
from pathlib import Path

import pytest

import hpcpredict as hp
from hpcpredict.model.presets import TOKIO_EXCLUDE, TOKIO_FORECAST_EXCLUDE, TOKIO_KEPT_DARSHAN, TOKIO_TARGET, read_tokio_cori
from hpcpredict.metadata import feature_specs

CORI = Path(__file__).parents[2] / "shared" / "data" / "real" / "tokio-year-io" / "cori-summaries_2017-02-14-2018-02-15.csv.gz"
APPS = {"ior", "hacc_io_read", "hacc_io_write", "vpicio_uni", "dbscan_read"}
# Darshan columns that restate the measured I/O (its time, ops, walltime, a copy of the bytes)
RESTATED = ["darshan_io_time", "darshan_walltime", "darshan_tot_f_write_time_posix", "darshan_max_f_meta_time_posix", "darshan_total_gibs_posix", "darshan_end_time", "darshan_app"]

pytestmark = [pytest.mark.shared, pytest.mark.skipif(not CORI.exists(), reason=f"{CORI} is absent")]


@pytest.fixture(scope="module")
def cori():
    table = read_tokio_cori(CORI)
    return table.groupby("app").head(80)  # 400 rows, 80 per application, across the year


@pytest.fixture(scope="module")
def trained(cori, tmp_path_factory):
    out = tmp_path_factory.mktemp("tokio")
    table = hp.model.load_training_table(cori, target=TOKIO_TARGET, time="_datetime_start", app="app", exclude=TOKIO_EXCLUDE)
    bundle = hp.train(table, out / "model", target=TOKIO_TARGET, objective="relative", n_estimators=15, params={"learning_rate": 0.3, "n_jobs": 1})
    return table, bundle


def test_the_read_names_applications_not_install_paths(cori):
    assert set(cori["app"]) == APPS
    assert set(cori["node_type"]) == {"knl", "haswell"}
    assert not cori["darshan_biggest_read_fs"].str.contains("/var/opt/cray/dws", na=False).any()


def test_no_feature_restates_the_measured_io(trained, cori):
    _, bundle = trained
    names = set(bundle.feature_names)
    assert TOKIO_TARGET not in names
    assert not names & set(RESTATED)
    darshan = {n.removeprefix("darshan_") for n in names if n.startswith("darshan_")}
    assert darshan == set(TOKIO_KEPT_DARSHAN)
    assert not [n for n in names if n.startswith("fs_tot_") or n == "jobsdb_concurrent_nodehrs" or n.endswith("timestamp")]
    assert {"app", "node_type", "jobsdb_concurrent_jobs", "fs_ave_oss_cpu"} <= names  # configuration and system state stay
    # every Darshan time/op/per-file column of the real table is caught by the exclusion list
    measured = [c for c in cori.columns if re.match(r"darshan_.*(time|ops|opens|reads|writes|stats|aligned|_bytes_)", c) and c.removeprefix("darshan_") not in TOKIO_KEPT_DARSHAN]
    assert measured and not names & set(measured)


def test_the_forecast_variant_keeps_only_what_is_known_at_the_start(cori):
    table = hp.model.load_training_table(cori, target=TOKIO_TARGET, time="_datetime_start", app="app", exclude=TOKIO_FORECAST_EXCLUDE)
    names = [f["name"] for f in feature_specs(table)]
    assert names and not [n for n in names if n.startswith("fs_")]
    assert {"app", "darshan_nprocs", "fshealth_ost_most_full_pct", "topology_job_max_radius"} <= set(names)


def test_temporal_and_leave_one_app_out_report_the_per_application_median(trained):
    table, bundle = trained
    temporal = hp.api.evaluate(bundle, table, by="app").to_dict()
    assert {"model", "app_median", "training_median"} == set(temporal["metrics"])
    assert temporal["rows"] > 50 and temporal["metrics"]["app_median"]["mae"] > 0
    loao = hp.api.evaluate(bundle, table, split="loao", by="app").to_dict()
    assert set(loao["groups"]) == APPS and loao["rows"] == len(table)
    assert {"model", "app_median"} <= set(loao["metrics"])

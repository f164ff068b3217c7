"""The public surface: subpackages are modules, the verbs live in hpcpredict.api, the CLI starts light."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("xgboost", "shap", "fastapi", "duckdb", "matplotlib", "sklearn", "pyarrow", "pandas")


def _loaded_after(code: str) -> list[str]:
    probe = f"import sys\n{code}\nimport json; print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_subpackages_are_modules_and_their_functions_are_reachable():
    import hpcpredict
    import hpcpredict.features
    import hpcpredict.ingest

    assert hpcpredict.features.__name__ == "hpcpredict.features"  # the module, not a function
    assert hpcpredict.ingest.read_swf.__module__ == "hpcpredict.ingest.swf"
    from hpcpredict import api

    assert api.features.__module__ == "hpcpredict.features.build" and api.train is hpcpredict.train
    assert (Path(hpcpredict.__file__).parent / "py.typed").is_file()


def test_calling_a_subpackage_as_before_still_works_with_a_deprecation(pipeline, tmp_path):
    import hpcpredict as hp

    with pytest.warns(DeprecationWarning, match=r"use hpcpredict.api.features"):
        summary = hp.features(pipeline["jobs"], tmp_path / "f.parquet", horizon="submit")
    assert summary["rows"] > 0
    with pytest.warns(DeprecationWarning, match="load_model"):
        assert hp.load_bundle(pipeline["model"]).feature_names


def test_cli_help_and_version_load_no_heavy_library():
    argvs = [["--help"], ["--version"], ["ingest", "--help"], ["serve", "--help"], ["predict", "--help"], ["train", "--help"]]
    code = "import hpcpredict\nfrom hpcpredict.cli import app\n" + "".join(f"try:\n    app({argv!r})\nexcept SystemExit:\n    pass\n" for argv in argvs)
    assert _loaded_after(code) == []


DEPRECATED_CALLS = r"\b(hp|hpcpredict)\.(ingest|features|evaluate|explain|report|simulate|load_bundle)\(|\bhpcpredict\.model\.(Bundle|predict_runtime|predict_interval)\b|\bload_bundle\("


def test_no_script_notebook_or_doc_uses_a_deprecated_name():
    """Benchmarks, notebooks, examples and docs show the API users should copy, not the deprecated one."""
    import re

    root = Path(__file__).resolve().parents[1]
    files = [root / "README.md", *root.glob("docs/*.md"), *root.glob("benchmarks/*.py"), *root.glob("notebooks/*.ipynb"), *root.glob("examples/**/*.py")]
    offenders = [f"{p.relative_to(root)}:{n}" for p in files for n, line in enumerate(p.read_text().splitlines(), 1) if re.search(DEPRECATED_CALLS, line)]
    assert offenders == []

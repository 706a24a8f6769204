"""The mypyc build: compiled code must answer exactly as its source, and never run stale."""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

from knowledge.compiled import (
    COMPILED_SOURCES,
    ROOT,
    module_name,
    read_record,
    running_compiled,
    source_hashes,
    stale,
    stale_message,
)

sys.path.insert(0, str(ROOT / "bench"))
from screening import generate  # noqa: E402 - the benchmark's synthetic record file

# Runs `recordcheck screen` with the compiled modules refused, so their .py sources load.
_PURE_PYTHON_SCREEN = textwrap.dedent(
    """
    import importlib.machinery, sys
    REFUSED = set(sys.argv[1].split(","))

    class SourceOnly:
        @staticmethod
        def find_spec(name, path=None, target=None):
            if name not in REFUSED:
                return None
            finder = importlib.machinery.FileFinder(
                path[0], (importlib.machinery.SourceFileLoader, [".py"])
            )
            return finder.find_spec(name)

    sys.meta_path.insert(0, SourceOnly)
    from webhooks.screen_cli import screen
    import knowledge.engine, webhooks.screen_csv
    assert knowledge.engine.__file__.endswith(".py"), knowledge.engine.__file__
    assert webhooks.screen_csv.__file__.endswith(".py"), webhooks.screen_csv.__file__
    screen.main(sys.argv[2:])
    """
)


# Runs setup.py (copied to the current directory) where Python's headers are not installed.
_SETUP_WITHOUT_HEADERS = textwrap.dedent(
    """
    import runpy, sys, sysconfig
    real = sysconfig.get_paths
    sysconfig.get_paths = lambda *a, **k: {**real(*a, **k), "include": sys.argv[1]}
    sys.argv = ["setup.py", "--name"]
    runpy.run_path("setup.py", run_name="__main__")
    """
)


def _tree(tmp_path: Path, text: str) -> Path:
    source = tmp_path / "knowledge" / "engine.py"
    source.parent.mkdir(parents=True, exist_ok=True)
    source.write_text(text, encoding="utf-8")
    return tmp_path


def test_an_unchanged_compiled_source_is_not_stale(tmp_path: Path) -> None:
    root = _tree(tmp_path, "X = 1\n")
    recorded = source_hashes(root, ["knowledge/engine.py"])

    assert stale(root, recorded, ["knowledge/engine.py"]) == ()


def test_a_source_edited_after_the_build_is_stale(tmp_path: Path) -> None:
    root = _tree(tmp_path, "X = 1\n")
    recorded = source_hashes(root, ["knowledge/engine.py"])
    _tree(tmp_path, "X = 2\n")

    assert stale(root, recorded, ["knowledge/engine.py"]) == ("knowledge/engine.py",)
    assert "make install-dev" in stale_message(["knowledge/engine.py"])


def test_compiled_code_without_a_build_record_counts_as_stale(tmp_path: Path) -> None:
    root = _tree(tmp_path, "X = 1\n")

    assert stale(root, None, ["knowledge/engine.py"]) == ("knowledge/engine.py",)


def test_plain_python_is_never_stale(tmp_path: Path) -> None:
    assert stale(_tree(tmp_path, "X = 1\n"), None, []) == ()


@pytest.mark.parametrize("content", ["", "not json", "[1, 2]"])
def test_a_missing_or_broken_build_record_reads_as_none(tmp_path: Path, content: str) -> None:
    record = tmp_path / "compiled.json"
    assert read_record(record) is None
    record.write_text(content, encoding="utf-8")
    assert read_record(record) is None


def test_a_c_compiler_without_python_headers_installs_plain_python(tmp_path: Path) -> None:
    # Debian with gcc but without python3-dev: mypyc's C would not build, so the install
    # must fall back to plain Python instead of failing `make run`.
    if shutil.which((sysconfig.get_config_var("CC") or "cc").split()[0]) is None:
        pytest.skip("no C compiler here: the headers are never looked for")
    (tmp_path / "knowledge").mkdir()
    shutil.copy(ROOT / "setup.py", tmp_path)
    shutil.copy(ROOT / "knowledge" / "compiled.py", tmp_path / "knowledge")
    no_headers = tmp_path / "include"
    no_headers.mkdir()

    done = subprocess.run(
        [sys.executable, "-c", _SETUP_WITHOUT_HEADERS, str(no_headers)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 0, done.stderr
    assert "no Python headers" in done.stdout
    assert "installing as plain Python" in done.stdout


def test_this_checkout_runs_what_its_record_says_was_compiled() -> None:
    compiled = running_compiled()
    if not compiled:
        pytest.skip("installed as plain Python (no C compiler or RECORDCHECK_PURE_PYTHON)")
    recorded = read_record()
    assert recorded is not None
    assert set(compiled) == set(COMPILED_SOURCES) == set(recorded)
    assert stale(ROOT, recorded, compiled) == ()


def test_the_compiled_and_the_plain_python_screen_write_the_same_file(tmp_path: Path) -> None:
    compiled = running_compiled()
    if not compiled:
        pytest.skip("installed as plain Python: there is no compiled code to compare")
    records = tmp_path / "records.csv"
    generate(records, 6_000, seed=7)
    with records.open("a", encoding="utf-8", newline="") as fh:  # and some bad rows
        fh.write("9B1,district,Baltimore City,closed,,,,1,CDS: POSS-MARIJUANA,,2030-01-01,"
                 "GUILTY,2020-01-01,,false,false\n")  # fmt: skip
        fh.write("9B2,nowhere,Baltimore City,closed,,,,1,X,,,GUILTY,,,false,false\n")
        fh.write("short,row\n")
    outputs = {}
    for mode in ("compiled", "pure"):
        out = tmp_path / f"{mode}.csv"
        args = [str(records), "--as-of", "2026-11-25", "-o", str(out)]
        if mode == "compiled":
            cmd = [sys.executable, "-c", "from webhooks.screen_cli import screen; screen()", *args]
        else:
            refused = ",".join(module_name(s) for s in compiled)
            cmd = [sys.executable, "-c", _PURE_PYTHON_SCREEN, refused, *args]
        done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
        outputs[mode] = (done.returncode, done.stderr, out.read_text(encoding="utf-8"))

    assert outputs["compiled"] == outputs["pure"]
    returncode, stderr, text = outputs["compiled"]
    assert returncode == 2  # the bad rows are reported, the rest screened
    assert "9B2" in stderr
    assert len(text.splitlines()) > 3_000

"""The architecture contracts of pyproject.toml hold (import-linter's ``lint-imports``)."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_lint_imports_keeps_every_contract():
    script = Path(sys.executable).with_name("lint-imports")
    program = str(script) if script.exists() else shutil.which("lint-imports") or "lint-imports"
    done = subprocess.run([program, "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert " broken" in done.stdout and "0 broken" in done.stdout


def test_core_features_use_each_others_public_names_only():
    """``from ..roi.refine import _mask`` inside core/qc would reach into roi's internals."""
    import ast

    core = ROOT / "napari_milna" / "core"
    offenders = []
    for path in core.rglob("*.py"):
        feature = path.relative_to(core).parts[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom) or node.level < 2 or not node.module:
                continue
            target = node.module.split(".")[0]
            if target == feature:
                continue
            private = [a.name for a in node.names if a.name.startswith("_")]
            if private:
                offenders.append(f"{path.relative_to(ROOT)}: {node.module} {private}")
    assert offenders == []

"""`make lint`'s import-cycle check: it passes on this project and fails, naming each import, on a cycle."""

from pathlib import Path

import pytest

from tools.import_cycles import main


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_the_project_has_no_import_cycle(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    assert "no import cycle" in capsys.readouterr().out


def test_a_cycle_through_a_function_folder_and_a_deferred_import_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(
        tmp_path,
        {
            "pyproject.toml": '[tool.pytest.ini_options]\npythonpath = ["fn", "."]\n',
            "fn/handler/__init__.py": "",
            "fn/handler/app.py": "from handler.logs import write\n",
            "fn/handler/logs.py": "def write() -> None:\n    from tools.report import report\n",
            "tools/__init__.py": "",
            "tools/report.py": "import json\n\nfrom handler import app\n",
            "tools/alone.py": "from tools import report\n",
        },
    )

    assert main(["--root", str(tmp_path)]) == 1
    assert capsys.readouterr().err.splitlines() == [
        "import cycle: handler.app -> handler.logs -> tools.report -> handler.app",
        "  fn/handler/app.py:1 imports handler.logs",
        "  fn/handler/logs.py:2 imports tools.report",
        "  tools/report.py:3 imports handler.app",
        "1 import cycle(s) between project modules: break each one",
    ]


def test_modules_that_import_each_other_only_one_way_pass(tmp_path: Path) -> None:
    _write(tmp_path, {"a.py": "import b\nfrom c import value\n", "b.py": "import c\n", "c.py": "value = 1\n"})

    assert main(["--root", str(tmp_path)]) == 0

"""Copies demo_backend/server.py into the demo instance's user data in demo/template.yaml (between its markers).

python -m tools.sync_demo_userdata        (make demo-userdata)
"""

import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = PROJECT_ROOT / "demo" / "template.yaml"
SERVER = PROJECT_ROOT / "demo_backend" / "server.py"
BEGIN, END = "# BEGIN demo_backend/server.py", "# END demo_backend/server.py"


def embedded_script(template_text: str) -> str:
    """The script as the instance will write it: the lines between the markers, without the YAML indentation."""
    lines = template_text.splitlines()
    begin = next(index for index, line in enumerate(lines) if line.strip() == BEGIN)
    end = next(index for index, line in enumerate(lines) if line.strip() == END)
    indent = len(lines[begin]) - len(lines[begin].lstrip())
    return "".join(line[indent:] + "\n" for line in lines[begin + 1 : end])


def synced(template_text: str, script: str) -> str:
    lines = template_text.splitlines(keepends=True)
    begin = next(index for index, line in enumerate(lines) if line.strip() == BEGIN)
    end = next(index for index, line in enumerate(lines) if line.strip() == END)
    indent = lines[begin][: len(lines[begin]) - len(lines[begin].lstrip())]
    body = [(indent + line if line.strip() else "\n") for line in script.splitlines(keepends=True)]
    return "".join(lines[: begin + 1] + body + lines[end:])


def main() -> int:
    TEMPLATE.write_text(
        synced(TEMPLATE.read_text(encoding="utf-8"), SERVER.read_text(encoding="utf-8")), encoding="utf-8"
    )
    print(f"copied {SERVER.relative_to(PROJECT_ROOT)} into {TEMPLATE.relative_to(PROJECT_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

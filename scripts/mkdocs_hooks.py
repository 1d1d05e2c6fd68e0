"""mkdocs hooks: the site also serves examples/ and bench/ from the repository root.

The pages link to them as `../examples/x.py` and `../bench/RESULTS.md` (right on GitHub, where
docs/ is a folder of the repository); on the site they live at `examples/` and `bench/`, so
the links are rewritten and the files added to the build. The examples are thereby the very
files CI runs, never copies.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

ROOT = Path(__file__).parents[1]
SERVED = ("examples", "bench")
_UP = re.compile(r"\]\(\.\./(" + "|".join(SERVED) + r")/")


def on_files(files: Files, config: Any) -> Files:
    for folder in SERVED:
        for path in sorted((ROOT / folder).iterdir()):
            if path.is_file() and path.suffix in (".py", ".md", ".html"):
                files.append(
                    File(
                        f"{folder}/{path.name}",
                        src_dir=str(ROOT),
                        dest_dir=config["site_dir"],
                        use_directory_urls=config["use_directory_urls"],
                    )
                )
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Files) -> str:
    return _UP.sub(r"](\1/", markdown)

"""Print a pip constraints file holding every direct dependency of verikit at its floor (``pkg==X`` for ``pkg>=X``).

    python .ci/floors.py [EXTRA ...] > floors.txt

The lowest-versions CI job (``.ci/lowest-versions``) installs with these constraints, which is what uv's
``--resolution lowest-direct`` does: direct dependencies at their floors, everything else resolved as usual. Here
rather than uv because uv does not read the CPU torch wheel on this kind of machine's disk, and a torch it picks
itself is a multi-GB CUDA build. torch is left out: the job installs the CPU wheel ``torch==2.13.0``; pyproject's
torch floor is the GPU image's release (2.11), where verikit's GPU check ran.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import tomllib

NOT_CONSTRAINED = {"torch", "verikit"}


def floors(pyproject: Path, extras: list[str], plugins: list[Path] = ()) -> list[str]:
    """``name==floor`` for verikit's dependencies, the ``extras`` named, and the bundled ``plugins``' dependencies."""
    project = tomllib.loads(pyproject.read_text())["project"]
    requirements = list(project["dependencies"])
    for extra in extras:
        requirements += project["optional-dependencies"][extra]
    for plugin in plugins:
        requirements += tomllib.loads(plugin.read_text())["project"]["dependencies"]
    pins: dict[str, str] = {}
    for requirement in requirements:
        if requirement.strip() in NOT_CONSTRAINED:
            continue
        match = re.fullmatch(r"\s*([A-Za-z0-9_.\-]+)(\[[^\]]*\])?\s*>=\s*([0-9][^,;\s]*)\s*", requirement)
        if match is None:
            raise SystemExit(f"{pyproject}: {requirement!r} has no '>=' floor (every dependency needs one)")
        name, version = match.group(1).lower(), match.group(3)
        if name not in NOT_CONSTRAINED:
            pins[name] = version
    return [f"{name}=={version}" for name, version in sorted(pins.items())]


if __name__ == "__main__":
    root = Path(__file__).resolve().parent.parent
    plugins = sorted((root / "plugins").glob("*/pyproject.toml"))
    print("\n".join(floors(root / "pyproject.toml", sys.argv[1:], plugins)))

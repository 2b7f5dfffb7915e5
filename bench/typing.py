"""Realistic typing against the real ``weft serve``, as VS Code and as Neovim 0.12 drive it.

    python bench/typing.py [--quick] [--mode vscode|neovim|burst|both|all] [--seed 7]
                           [--files 3] [--min-chars 300] [--max-chars 340] [--no-pauses]
                           [--debounce-ms N] [--no-probe]

The benchmark lives in ``bench/_typing_replay.py`` (method and figures in its docstring and in
docs/benchmarks.md). This file only starts it, because its name is also the standard library's
``typing``: when another script in ``bench/`` runs, this folder comes first on ``sys.path`` and
``import typing`` finds this file (unless something imported ``typing`` earlier, as a site
``.pth`` file happens to on the development VM). Imported under that name, it loads the real
module and stands aside.
"""

from __future__ import annotations

import os
import sys

if __name__ == "typing":
    import importlib.util
    import sysconfig

    _spec = importlib.util.spec_from_file_location(
        "typing", os.path.join(sysconfig.get_paths()["stdlib"], "typing.py")
    )
    assert _spec is not None and _spec.loader is not None
    _real = importlib.util.module_from_spec(_spec)
    sys.modules["typing"] = _real  # the import system returns what sys.modules holds
    _spec.loader.exec_module(_real)
    globals().update(vars(_real))
elif __name__ == "__main__":
    _BENCH = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _BENCH] + [_BENCH]
    from _typing_replay import run

    run()

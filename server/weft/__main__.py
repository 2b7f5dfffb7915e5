"""``python -m weft`` is the same program as the ``weft`` console script."""

from weft.cli import main

raise SystemExit(main())

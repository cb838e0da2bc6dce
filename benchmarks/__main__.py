"""``python -m benchmarks``: run the harness (see :mod:`benchmarks.run`)."""

from benchmarks.run import main

raise SystemExit(main())

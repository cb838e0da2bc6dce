"""``python -m mock_semble`` is the ``mock-semble`` command."""

import sys

from .cli import main

sys.exit(main())

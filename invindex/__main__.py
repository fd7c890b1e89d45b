"""``python -m invindex`` is ``invindex``."""

import sys

from .cli import main

sys.exit(main())

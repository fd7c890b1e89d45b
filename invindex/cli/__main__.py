"""``python -m invindex.cli`` is ``invindex``."""

import sys

from . import main

sys.exit(main())

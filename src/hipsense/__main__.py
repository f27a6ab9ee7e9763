"""``python -m hipsense``: the same command line as the ``hipsense`` script."""

import sys

from hipsense.cli import main

if __name__ == "__main__":
    sys.exit(main())

"""`python -m speechcraft.cli`: the same command as the `speechcraft` console script."""
import sys

from . import main

sys.exit(main())

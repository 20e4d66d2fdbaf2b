"""`python -m speechcraft.cli`: the same command as the `speechcraft` console script."""
from . import command

command()

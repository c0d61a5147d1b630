"""`python -m dossier`: the same as the `dossier` console script."""

from dossier.main import main

main()

"""`python -m gradtrain` runs the command line."""

from gradtrain.cli import app

app()

"""The command-line face: thin Typer commands over parley.services."""

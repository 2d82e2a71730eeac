"""Parley: a payer-contract negotiation workbench for provider organisations."""

__version__ = "0.1.0"

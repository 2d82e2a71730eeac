"""Ingestion: one package per external format, each streaming into canonical tables."""

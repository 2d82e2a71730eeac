"""Tabular claim and payment extracts (CSV, TSV, Excel) read through a column-mapping file.

Practice-management systems often export claims and payments as spreadsheets
rather than X12.  A YAML mapping (``docs/tabular-mapping.md``) names which
source column feeds which Parley field; the reader then streams the file into
the same canonical tables as the X12 readers::

    mapping = load_mapping(Path("examples/mappings/claims-lines.yaml"))
    for chunk in read_tabular(path, mapping, file_id=file_id, hasher=hasher):
        ...
"""

from parley.ingest.tabular.mapping import FIELDS, Mapping, dump_mapping, load_mapping
from parley.ingest.tabular.reader import read_tabular, sniff_tabular

__all__ = ["FIELDS", "Mapping", "dump_mapping", "load_mapping", "read_tabular", "sniff_tabular"]

from decimal import Decimal

import polars as pl
import pytest

from parley.store.datasets import (
    FileCommit,
    committed_ids,
    conform,
    now_utc,
    read_manifest,
    sweep_staging,
)


def lines_frame(n: int = 3) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "claim_seq": list(range(n)),
            "line_seq": list(range(n)),
            "procedure_code": ["99213"] * n,
            "charge_amount": [Decimal("150.10")] * n,
            "paid_amount": [Decimal("88.95")] * n,
        },
        schema_overrides={"charge_amount": pl.Decimal(14, 2), "paid_amount": pl.Decimal(14, 2)},
    )


def manifest_row() -> dict:
    return {
        "sha256": "ab" * 32,
        "source_path": "x.835",
        "source_bytes": 10,
        "format": "x12-835",
        "version": "v",
        "status": "loaded",
        "ingested_at": now_utc(),
        "problem_count": 0,
        "error_count": 0,
        "elapsed_seconds": 0.1,
    }


def test_conform_fills_types_and_order() -> None:
    table = conform("remit_lines", lines_frame(), file_id="f1")
    assert table.schema.field("charge_amount").type.scale == 2
    assert table.column("file_id").to_pylist() == ["f1"] * 3
    assert table.column("allowed_amount").null_count == 3
    assert table.column("paid_amount").to_pylist()[0] == Decimal("88.95")


def test_rows_are_invisible_until_commit(workspace) -> None:
    commit = FileCommit(workspace.datasets, "f1")
    commit.write("remit_lines", lines_frame())
    con = workspace.connect()
    assert con.execute("select count(*) from remit_lines").fetchone()[0] == 0
    commit.commit(manifest_row())
    con = workspace.connect()
    assert con.execute("select count(*), sum(paid_amount) from remit_lines").fetchone() == (
        3,
        Decimal("266.85"),
    )
    assert committed_ids(workspace.datasets) == {"f1"}
    assert read_manifest(workspace.datasets).column("record_counts").to_pylist() == [
        '{"remit_lines": 3}'
    ]


def test_abort_and_crash_leave_nothing(workspace) -> None:
    commit = FileCommit(workspace.datasets, "f2")
    commit.write("remit_lines", lines_frame())
    commit.abort()
    assert not any((workspace.datasets / ".staging").iterdir())
    crashed = FileCommit(workspace.datasets, "f3")
    crashed.write("remit_lines", lines_frame())  # the process "dies" here
    assert sweep_staging(workspace.datasets) == 1
    assert workspace.connect().execute("select count(*) from remit_lines").fetchone()[0] == 0


def test_orphaned_table_folder_without_manifest_is_invisible(workspace) -> None:
    commit = FileCommit(workspace.datasets, "f4")
    commit.write("remit_lines", lines_frame())
    commit.flush()
    (workspace.datasets / "remit_lines").mkdir(exist_ok=True)
    (commit.staging / "remit_lines").rename(
        workspace.datasets / "remit_lines" / "f4"
    )  # renamed, then crash
    assert workspace.connect().execute("select count(*) from remit_lines").fetchone()[0] == 0


def test_unknown_table_is_refused(workspace) -> None:
    commit = FileCommit(workspace.datasets, "f5")
    with pytest.raises(KeyError):
        commit.write("nonsense", lines_frame())
    commit.abort()


def test_parts_written_by_an_older_schema_still_read(workspace) -> None:
    """Current parts carry the schema tag; an untagged part with fewer columns forces the by-name union."""
    import pyarrow.parquet as pq

    from parley.store.datasets import part_tags, schema_tag

    commit = FileCommit(workspace.datasets, "new")
    commit.write("remit_lines", lines_frame(2))
    commit.commit(manifest_row())
    files = list((workspace.datasets / "remit_lines").glob("*/part-*.parquet"))
    assert part_tags(files) == {schema_tag("remit_lines")}
    # an "old" file: no tag in its name and no allowed_amount column
    old = conform("remit_lines", lines_frame(1), file_id="old").drop_columns(["allowed_amount"])
    folder = workspace.datasets / "remit_lines" / "old"
    folder.mkdir()
    pq.write_table(old, folder / "part-00000.parquet")
    commit = FileCommit(workspace.datasets, "old")
    commit.commit({**manifest_row(), "sha256": "cd" * 32})
    con = workspace.connect()
    assert con.execute("select count(*), count(allowed_amount), sum(paid_amount) from remit_lines").fetchone() == (
        3, 0, Decimal("266.85"))


def test_a_column_no_part_has_reads_as_null(workspace) -> None:
    """Every part older than a column added since (a workspace ingested by an earlier
    Parley): the view still has every canonical column, null where absent, so queries
    naming the new column run."""
    import pyarrow.parquet as pq

    old = conform("remit_lines", lines_frame(2), file_id="old").drop_columns(["allowed_amount"])
    folder = workspace.datasets / "remit_lines" / "old"
    folder.mkdir(parents=True)
    pq.write_table(old, folder / "part-00000.parquet")
    FileCommit(workspace.datasets, "old").commit(manifest_row())
    con = workspace.connect()
    assert con.execute("select count(*), count(allowed_amount) from remit_lines").fetchone() == (2, 0)
    columns = [r[0] for r in con.execute("describe remit_lines").fetchall()]
    assert columns == conform("remit_lines", lines_frame(1), file_id="x").schema.names


def _parts(workspace, table: str, file_id: str) -> list:
    return sorted((workspace.datasets / table / file_id).glob("part-*.parquet"))


def test_chunks_are_held_and_written_as_one_part_in_order(workspace) -> None:
    """Small chunks of a table make one part, rows in the order written; the counts are
    the manifest's whatever the parts."""
    import pyarrow.parquet as pq

    commit = FileCommit(workspace.datasets, "c1")
    for i in range(5):
        frame = lines_frame(4).with_columns(pl.col("line_seq") + 10 * i)
        commit.write("remit_lines", frame)
    commit.commit(manifest_row())
    (part,) = _parts(workspace, "remit_lines", "c1")
    assert pq.read_table(part).column("line_seq").to_pylist() == [
        10 * i + j for i in range(5) for j in range(4)
    ]
    assert read_manifest(workspace.datasets).column("record_counts").to_pylist() == [
        '{"remit_lines": 20}'
    ]


def test_a_part_is_written_once_it_holds_enough_rows(workspace) -> None:
    commit = FileCommit(workspace.datasets, "c2", part_rows=6)
    for _ in range(5):
        commit.write("remit_lines", lines_frame(3))  # parts of 6, 6 and 3 rows
    commit.commit(manifest_row())
    import pyarrow.parquet as pq

    parts = _parts(workspace, "remit_lines", "c2")
    assert [pq.read_metadata(p).num_rows for p in parts] == [6, 6, 3]
    assert workspace.connect().execute("select count(*) from remit_lines").fetchone()[0] == 15


def test_string_views_are_written_as_they_are_and_read_back_as_strings(workspace) -> None:
    """A chunk whose strings are Arrow views (the 835 reader's) and one with plain strings
    join in one part; every reader sees the canonical schema."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from parley.store.tables import schema

    views = lines_frame(2)  # Polars holds strings as views: conform keeps them
    assert pa.types.is_string_view(conform("remit_lines", views, file_id="v").schema.field("procedure_code").type)
    plain = lines_frame(2).to_arrow()  # large strings: cast to string
    assert pa.types.is_string(conform("remit_lines", plain, file_id="v").schema.field("procedure_code").type)
    commit = FileCommit(workspace.datasets, "v1")
    commit.write("remit_lines", views)
    commit.write("remit_lines", plain)
    commit.commit(manifest_row())
    (part,) = _parts(workspace, "remit_lines", "v1")
    table = pq.read_table(part)
    assert table.schema == schema("remit_lines").remove_metadata()
    assert table.column("procedure_code").to_pylist() == ["99213"] * 4
    con = workspace.connect()
    assert con.execute("select count(distinct procedure_code) from remit_lines").fetchone()[0] == 1


def test_abort_drops_held_rows_unwritten(workspace) -> None:
    commit = FileCommit(workspace.datasets, "a1")
    commit.write("remit_lines", lines_frame())
    staging = commit.staging
    commit.abort()
    assert not staging.exists()
    assert workspace.connect().execute("select count(*) from remit_lines").fetchone()[0] == 0

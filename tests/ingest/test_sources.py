import gzip
import zipfile
from pathlib import Path

import pytest

from parley.errors import InputError
from parley.ingest.sources import expand


def test_files_folders_globs_gz_and_zip(tmp_path: Path) -> None:
    (tmp_path / "a.835").write_bytes(b"ISA*...")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.837").write_bytes(b"ISA*b")
    (tmp_path / "sub" / ".hidden").write_bytes(b"x")
    with gzip.open(tmp_path / "c.835.gz", "wb") as f:
        f.write(b"ISA*c")
    with zipfile.ZipFile(tmp_path / "d.zip", "w") as z:
        z.writestr("one.835", b"ISA*one")
        z.writestr("dir/two.837", b"ISA*two")
    sources = expand([str(tmp_path)])
    names = sorted(s.name.replace(str(tmp_path), "") for s in sources)
    assert names == ["/a.835", "/c.835.gz", "/d.zip!dir/two.837", "/d.zip!one.835", "/sub/b.837"]
    by = {s.name.rsplit("/", 1)[-1]: s for s in sources}
    assert by["c.835.gz"].head() == b"ISA*c"
    assert by["d.zip!one.835"].head() == b"ISA*one" or by["one.835"].head() == b"ISA*one"
    assert len(expand([str(tmp_path / "*.835")])) == 1
    assert expand([str(tmp_path / "a.835"), str(tmp_path / "a.835")])[0].digest()[1] == 7


def test_missing_paths_are_input_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        expand([str(tmp_path / "nope.835")])
    with pytest.raises(InputError, match="no file matches"):
        expand([str(tmp_path / "*.nothing")])


def test_truncated_gzip_fails_on_read(tmp_path: Path) -> None:
    data = gzip.compress(b"ISA*" + b"x" * 10000)
    (tmp_path / "t.835.gz").write_bytes(data[: len(data) // 2])
    (source,) = expand([str(tmp_path / "t.835.gz")])
    with pytest.raises(EOFError):
        source.digest()

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


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
@pytest.mark.parametrize("packing", ["plain", "gz", "zip"])
def test_utf16_text_is_read_as_utf8(tmp_path: Path, encoding: str, packing: str) -> None:
    """A UTF-16 file (with or without a byte-order mark, plain, gzipped or zipped) reads as
    its UTF-8 bytes, line ends and non-ASCII characters kept, and is not opened by path."""
    text = "ISA*00*x~\r\nNM1*QC*1*MÜLLER*JOSÉ~\r\n" * 5000  # ~190 KB: more than one read
    data = text.encode(encoding)
    if packing == "plain":
        (tmp_path / "a.835").write_bytes(data)
    elif packing == "gz":
        with gzip.open(tmp_path / "a.835.gz", "wb") as f:
            f.write(data)
    else:
        with zipfile.ZipFile(tmp_path / "a.zip", "w") as z:
            z.writestr("a.835", data)
    (source,) = expand([str(tmp_path)])
    assert source.head(9) == b"ISA*00*x~"
    with source.open() as stream:
        assert stream.read() == text.encode()
    assert source.digest()[1] == len(text.encode())
    assert source.local_path() is None


def test_utf8_and_binary_are_left_alone(tmp_path: Path) -> None:
    (tmp_path / "a.835").write_bytes(b"ISA*00*x~")
    (tmp_path / "b.bin").write_bytes(bytes(range(256)))
    by = {s.path.name: s for s in expand([str(tmp_path)])}
    assert by["a.835"].local_path() == tmp_path / "a.835"
    with by["b.bin"].open() as stream:
        assert stream.read() == bytes(range(256))


def test_names_starting_with_underscore_are_data_hidden_and_lock_files_are_not(tmp_path: Path) -> None:
    """A real corpus names its files "_835_batch.txt": read them (before: skipped silently).
    Hidden files, macOS zip forks, Office lock files and Python caches are still skipped."""
    (tmp_path / "_835_batch.txt").write_bytes(b"ISA*u")
    (tmp_path / "_claims").mkdir()
    (tmp_path / "_claims" / "b.837").write_bytes(b"ISA*b")
    (tmp_path / "~$claims.xlsx").write_bytes(b"lock")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "x.835").write_bytes(b"ISA*git")
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "x.pyc").write_bytes(b"\x00")
    with zipfile.ZipFile(tmp_path / "d.zip", "w") as z:
        z.writestr("_one.835", b"ISA*one")
        z.writestr("__MACOSX/._one.835", b"\x00\x05")
    names = sorted(s.name.replace(str(tmp_path), "") for s in expand([str(tmp_path)]))
    assert names == ["/_835_batch.txt", "/_claims/b.837", "/d.zip!_one.835"]

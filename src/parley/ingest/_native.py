"""Compiled kernels as machine code, called without numba's start-up.

numba costs every process that calls a kernel about 0.4 s before the first call: 0.2 s to
import, then 0.2 s to build its typing and target contexts, even when the machine code comes
from its cache.  The machine code itself links in a few milliseconds.  For a kernel with a C
signature (a numba ``cfunc``), this module keeps that code as an object file beside numba's
own cache and, in later processes, links it with llvmlite's MCJIT alone and calls it through
ctypes: numba is not imported at all.  (A pool of TiC workers is forked from a process that
loaded it, so the saving is on the critical path of a parallel ingest.)

The object file is built once per machine, by numba, the first time a process asks for it, and
its name is a key over everything that changes the code: the kernel's source files, numba's
and llvmlite's versions, the Python version and the host CPU (name and features).  Anything
unexpected (another platform than ELF, a symbol this process cannot resolve, a corrupt or
truncated file, a failed build) gives ``None`` and the caller uses numba as before;
``PARLEY_NATIVE=0`` asks for that.

Symbols.  A cfunc's object refers to numba's runtime helpers on its error path (raising needs
the GIL and numba's exception machinery) and to NRT's for arrays it would own.  A kernel
loaded here takes only raw pointers and must neither raise nor allocate, so those helpers are
never called; they are bound to a trap (the process stops at once rather than run on with a
wrong result).  Every other undefined symbol must resolve in this process (CPython's C API,
libc), as it would for numba.
"""

from __future__ import annotations

import ctypes
import hashlib
import importlib
import importlib.util
import json
import os
import platform
import struct
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MAGIC = b"PARLEY-NATIVE-1\n"
FLAG = "PARLEY_NATIVE"
#: numba's runtime helpers a cfunc's object may name; never called by a kernel loaded here
STUBBED_PREFIXES = ("numba_", "NRT_")


@dataclass(frozen=True)
class KernelSpec:
    """One native kernel: where its code comes from and how ctypes calls it.

    ``build`` ("module:function") returns the numba ``cfunc``; it is imported only to build
    the object file.  ``sources`` are the modules whose text decides the machine code (the
    cfunc's and every njit function it calls).
    """

    name: str
    sources: tuple[str, ...]
    build: str
    argtypes: tuple[Any, ...]
    restype: Any = None


_LOADED: dict[str, Callable[..., Any] | None] = {}
_ENGINES: list[Any] = []  # the MCJIT engines own the code: kept for the process's life


def load(spec: KernelSpec) -> Callable[..., Any] | None:
    """The kernel as a ctypes function (built on first use), or None: call numba instead."""
    if spec.name in _LOADED:
        return _LOADED[spec.name]
    fn = None
    if os.environ.get(FLAG, "1") != "0" and sys.platform.startswith("linux"):
        try:
            fn = _load_or_build(spec)
        except Exception:  # noqa: BLE001 - any failure only means "use numba"
            fn = None
    _LOADED[spec.name] = fn
    return fn


def _load_or_build(spec: KernelSpec) -> Callable[..., Any] | None:
    import llvmlite.binding as llvm

    key = _key(spec, llvm)
    filename = f"{spec.name}-{key}.native"
    dirs = _cache_dirs(Path(spec.sources[0]).parent)
    for folder in dirs:
        blob = _read(folder / filename)
        if blob is not None:  # a good file that will not link would not after a rebuild
            return _link(spec, llvm, *blob)
    built = _build(spec)
    if built is None:
        return None
    symbol, obj = built
    for folder in dirs:
        if _write(folder / filename, symbol, obj):
            break
    return _link(spec, llvm, symbol, obj)


def _key(spec: KernelSpec, llvm: Any) -> str:
    digest = hashlib.sha256()
    for path in (*spec.sources, __file__):
        digest.update(Path(path).read_bytes())
    numba_spec = importlib.util.find_spec("numba")
    if numba_spec is None or numba_spec.origin is None:
        raise RuntimeError("numba is not installed: nothing to build the kernel with")
    version_file = Path(numba_spec.origin).parent / "_version.py"
    if version_file.exists():
        digest.update(version_file.read_bytes())
    import llvmlite

    host = (
        llvmlite.__version__,
        sys.version,
        platform.machine(),
        llvm.get_host_cpu_name(),
        llvm.get_host_cpu_features().flatten(),
        spec.build,
    )
    digest.update(repr(host).encode())
    return digest.hexdigest()[:20]


def _cache_dirs(source_dir: Path) -> list[Path]:
    """Where object files are looked for, and written (the first writable): like numba's
    cache, ``NUMBA_CACHE_DIR`` first, else the sources' ``__pycache__``, else the user's
    cache folder."""
    dirs = []
    env = os.environ.get("NUMBA_CACHE_DIR")
    if env:
        dirs.append(Path(env) / "parley-native")
    dirs.append(source_dir / "__pycache__")
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    dirs.append(Path(base) / "parley" / "native")
    return dirs


def _read(path: Path) -> tuple[str, bytes] | None:
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if not data.startswith(MAGIC):
        return None
    head_end = data.find(b"\n", len(MAGIC))
    if head_end < 0:
        return None
    try:
        head = json.loads(data[len(MAGIC) : head_end])
        symbol, size, sha = head["symbol"], int(head["size"]), head["sha256"]
    except (ValueError, KeyError, TypeError):
        return None
    obj = data[head_end + 1 :]
    if len(obj) != size or hashlib.sha256(obj).hexdigest() != sha:
        return None  # truncated or damaged: rebuilt
    return str(symbol), obj


def _write(path: Path, symbol: str, obj: bytes) -> bool:
    head = json.dumps({"symbol": symbol, "size": len(obj), "sha256": hashlib.sha256(obj).hexdigest()})
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(MAGIC + head.encode() + b"\n" + obj)
            os.replace(tmp, path)  # whole or not at all, whoever else is building it
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError:
        return False
    return True


def _build(spec: KernelSpec) -> tuple[str, bytes] | None:
    """Compile the cfunc with numba (its own cache helps) and take its object code."""
    module, _, attr = spec.build.partition(":")
    cfunc = getattr(importlib.import_module(module), attr)()
    if cfunc is None:
        return None
    obj = cfunc._library._get_compiled_object()  # numba's cache stores the same bytes
    return str(cfunc._wrapper_name), bytes(obj)


def _link(spec: KernelSpec, llvm: Any, symbol: str, obj: bytes) -> Callable[..., Any] | None:
    undefined = elf_undefined_symbols(obj)
    if undefined is None:
        return None
    process = ctypes.CDLL(None)
    stubs = []
    for name in undefined:
        if name.startswith(STUBBED_PREFIXES):
            stubs.append(name)
        elif not hasattr(process, name):
            return None  # MCJIT would abort the process on an unresolved symbol
    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()
    target = llvm.Target.from_default_triple().create_target_machine(
        cpu=llvm.get_host_cpu_name(), features=llvm.get_host_cpu_features().flatten(), jit=True
    )
    engine = llvm.create_mcjit_compiler(llvm.parse_assembly(_trap_module(stubs)), target)
    engine.add_object_file(llvm.ObjectFileRef.from_data(obj))
    engine.finalize_object()
    address = engine.get_function_address(symbol)
    if not address:
        return None
    _ENGINES.append((engine, target))
    return ctypes.CFUNCTYPE(spec.restype, *spec.argtypes)(address)


def _trap_module(names: list[str]) -> str:
    body = "".join(
        f'define void @"{name}"() {{\n  call void @llvm.trap()\n  unreachable\n}}\n'
        for name in names
    )
    return body + "declare void @llvm.trap()\n"


def elf_undefined_symbols(obj: bytes) -> list[str] | None:
    """The undefined symbols of a little-endian ELF64 relocatable object (None: not one)."""
    if len(obj) < 64 or obj[:4] != b"\x7fELF" or obj[4] != 2 or obj[5] != 1:
        return None
    shoff, = struct.unpack_from("<Q", obj, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", obj, 0x3A)
    if shoff == 0 or shentsize < 64 or shoff + shnum * shentsize > len(obj):
        return None
    sections = []
    for i in range(shnum):
        base = shoff + i * shentsize
        _, sh_type, _, _, offset, size, link, _, _, entsize = struct.unpack_from(
            "<IIQQQQIIQQ", obj, base
        )
        sections.append((sh_type, offset, size, link, entsize))
    names: list[str] = []
    for sh_type, offset, size, link, entsize in sections:
        if sh_type != 2:  # SHT_SYMTAB
            continue
        if entsize < 24 or link >= len(sections) or offset + size > len(obj):
            return None
        _, str_off, str_size, _, _ = sections[link]
        strtab = obj[str_off : str_off + str_size]
        for pos in range(offset + entsize, offset + size, entsize):  # entry 0 is null
            st_name, _, _, st_shndx = struct.unpack_from("<IBBH", obj, pos)
            if st_shndx == 0 and st_name:
                end = strtab.find(b"\0", st_name)
                names.append(strtab[st_name : end if end >= 0 else None].decode())
    return names

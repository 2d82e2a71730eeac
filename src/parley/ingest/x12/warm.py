"""Compile (or load) the X12 readers' kernels ahead of the first real file.

numba compiles the kernels the first time a process calls them and keeps the machine code in
its on-disk cache; on a fresh install that first call costs about 35 s (the fused 835 kernel
is most of it), paid again by every ingest worker that starts before the cache exists.
:func:`warm_kernels` reads two tiny synthetic transactions (an 835 of two claims of two
lines, an 837P of one claim) through the real readers, so every kernel meets the array
layouts of real batches once.  With a warm cache it costs well under a second (loading);
without numba it does nothing.  ``parley demo`` runs it in a background process while it
generates its files, so the compile overlaps the generation instead of following it.
"""

from __future__ import annotations

import io

from parley.ingest.base import PatientHasher

_ENVELOPE = (
    b"ISA*00*          *00*          *ZZ*A              *ZZ*B              *240101*1200*^*00501*"
    b"000000001*0*P*:~GS*%s*A*B*20240101*1200*1*X*%s~"
)
_835 = (
    _ENVELOPE % (b"HP", b"005010X221A1")
    + b"ST*835*0001~BPR*I*30*C*CHK************20240101~TRN*1*1*1~N1*PR*P~N1*PE*Q*XX*1234567893~"
    b"CLP*C1*1*10*10*0*12*X~NM1*QC*1*A*B****MI*M1~DTM*232*20240101~SVC*HC:99213*10*10**1~"
    b"DTM*472*20240101~CAS*CO*45*0~AMT*B6*10~CLP*C2*1*20*20*0*12*X~NM1*QC*1*C*D****MI*M2~"
    b"SVC*HC:99213:25*10*10**1~DTM*472*20240101~SVC*HC:99214*10*10**1~DTM*472*20240102~"
    b"AMT*B6*10~SE*20*0001~GE*1*1~IEA*1*000000001~"
)
_837P = (
    _ENVELOPE % (b"HC", b"005010X222A1")
    + b"ST*837*0001*005010X222A1~BHT*0019*00*1*20240101*1200*CH~NM1*41*2*S*****46*1~"
    b"NM1*40*2*R*****46*2~HL*1**20*1~NM1*85*2*B*****XX*1234567893~REF*EI*123456789~"
    b"HL*2*1*22*0~SBR*P*18*******CI~NM1*IL*1*S*J****MI*M1~NM1*PR*2*P*****PI*3~"
    b"CLM*C1*25***11:B:1*Y*A*Y*Y~HI*ABK:J069~LX*1~SV1*HC:99213*25*UN*1***1~"
    b"DTP*472*D8*20240101~SE*17*0001~GE*1*1~IEA*1*000000001~"
)


def warm_kernels() -> None:
    """Read the tiny 835 and 837P through the readers (compiles or loads every X12 kernel)."""
    from parley.ingest.x12 import read_835, read_837

    hasher = PatientHasher(b"parley-kernel-warm-up-key")
    for read, text in ((read_835, _835), (read_837, _837P)):
        for _ in read(io.BytesIO(text), file_id="warm-up", hasher=hasher, chunk_bytes=1 << 20):
            pass

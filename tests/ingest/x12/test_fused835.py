"""The fused 835 kernel (one compiled pass per batch) gives what ClaimBuilder gives."""

from __future__ import annotations

import pytest
from polars.testing import assert_frame_equal
from x12_support import DATA, Parsed, parse

from parley.ingest.x12 import _fused835
from parley.ingest.x12 import _kernels as K

pytestmark = pytest.mark.skipif(not K.ENABLED, reason="numba not installed")

SAMPLES_835 = sorted(p.name for p in DATA.iterdir() if p.suffix == ".835")


def _fused_and_builder(
    data: bytes, monkeypatch: pytest.MonkeyPatch, chunk_bytes: int = 32 << 20
) -> tuple[Parsed, Parsed, list[bool]]:
    """Parse twice: fused kernel allowed (recording which batches it took), and never."""
    took: list[bool] = []
    real = _fused835.build

    def recording(*args: object) -> object:
        out = real(*args)  # type: ignore[arg-type]
        took.append(out is not None)
        return out

    monkeypatch.setattr(_fused835, "build", recording)
    fused = parse(data, "x12-835", chunk_bytes=chunk_bytes)
    monkeypatch.setattr(_fused835, "build", lambda *a: None)
    builder = parse(data, "x12-835", chunk_bytes=chunk_bytes)
    monkeypatch.setattr(_fused835, "build", real)
    return fused, builder, took


def _same(a: Parsed, b: Parsed) -> None:
    assert [repr(p) for p in a.problems] == [repr(p) for p in b.problems]
    assert sorted(a.tables) == sorted(b.tables)
    for name, frame in b.tables.items():
        assert_frame_equal(a.tables[name], frame)


@pytest.mark.parametrize("name", SAMPLES_835)
@pytest.mark.parametrize("chunk_bytes", [32 << 20, 2048])
def test_samples_fused_same_as_builder(
    name: str, chunk_bytes: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    fused, builder, took = _fused_and_builder((DATA / name).read_bytes(), monkeypatch, chunk_bytes)
    _same(fused, builder)
    assert any(took), "the fused kernel should take the clean sample batches"


def _tiny(claims: str) -> bytes:
    return (
        "ISA*00*          *00*          *ZZ*A              *ZZ*B              *240101*1200*^*"
        "00501*000000001*0*P*:~GS*HP*A*B*20240101*1200*1*X*005010X221A1~ST*835*0001~"
        "BPR*I*30*C*CHK************20240101~TRN*1*1*1~N1*PR*P~N1*PE*Q*XX*1~LX*1~"
        + claims
        + "SE*12*0001~GE*1*1~IEA*1*000000001~"
    ).encode()


CLEAN = [
    # six CAS triplets with quantities, a blank-padded claim id, a reversal
    "CLP* C1 *22*-30*-30*0*12*X*11*1**DRG1~NM1*QC*1*A*B****MI* m1 ~DTM*050*20240102~"
    "CAS*CO*45*1*2*97*2**A1*3*1.5*B1*4*0*B2*5*0*B3*6*0~"
    "SVC*HC:99213:25:59:XU:GT*-30*-30*0450*2*HC:99214:25:59:XU:GT:AA*3~DTM*150*20240105~"
    "DTM*151*20240107~CAS*PR*1*-3~AMT*B6*10~AMT*B6*11~REF*6R*LINECTRL0000001~REF*6R*X~"
    "LQ*HE*N1~LQ*HE*  M2 ~",
    # no claim dates: they come from the lines (earliest start, latest end)
    "CLP*C2*1*20*10*0*12*X~SVC*HC:1*10*5~DTM*472*20240310~CAS*CO*45*5~"
    "SVC*HC:2*10*5*NU*1.5*:0002*2~DTM*472*20240301~CAS*CO*45*5~"
    "CLP*C3*4*5*0*0*MC*Y~CAS*CO*50*5~MOA**1*MA01*MA02~CLP*C4*2*1*1~SVC*HC:3*1*1~",
    # absent amounts: balanced is null, no problem
    "CLP*C5*1**~SVC*HC:1~SVC*HC:2*5~AMT*B6~",
]
DIRTY = [
    "CLP*C1*1*1O*0*0~",  # bad claim amount
    "CLP*C1*99*10*10~",  # unknown status
    "CLP*C1*1*10*10~CAS*XX*45*1~",  # unknown group code
    "CLP*C1*1*10*10~CAS*CO*45~",  # reason without amount
    "CLP*C1*1*10*10~SVC*HC:1*10*1O~",  # bad line amount
    "CLP*C1*1*10*10~SVC*HC:1*10*10~DTM*472*20240231~",  # bad date
    "CLP*C1*1*10*10~SVC*HC:1*10*10~AMT*B6*X~",  # bad allowed amount
    "SVC*HC:1*10*10~CLP*C1*1*10*10~",  # a line outside any claim
    "CLP*CÉ1*1*10*10~",  # non-ASCII claim id (Unicode blanks are stripped by Polars)
]


@pytest.mark.parametrize("claims", CLEAN)
def test_clean_batches_take_the_fused_kernel(claims: str, monkeypatch: pytest.MonkeyPatch) -> None:
    fused, builder, took = _fused_and_builder(_tiny(claims), monkeypatch)
    _same(fused, builder)
    assert took == [True]
    assert fused.table("remit_claims").height >= 1


@pytest.mark.parametrize("claims", DIRTY)
def test_batches_with_problems_fall_back(claims: str, monkeypatch: pytest.MonkeyPatch) -> None:
    fused, builder, took = _fused_and_builder(_tiny(claims), monkeypatch)
    _same(fused, builder)
    assert took == [False]
    assert fused.problems


def test_fused_values() -> None:
    parsed = parse(_tiny(CLEAN[0] + CLEAN[1]), "x12-835")
    claims = parsed.table("remit_claims")
    lines = parsed.table("remit_lines")
    adjustments = parsed.table("adjustments")
    first = claims.row(0, named=True)
    assert first["claim_id"] == "C1" and first["is_reversal"] and first["drg_code"] == "DRG1"
    assert str(first["claim_adjustment_amount"]) == "21.00"  # 1 + 2 + ... + 6
    assert str(first["received_date"]) == "2024-01-02"
    line = lines.row(0, named=True)
    assert (line["procedure_code"], line["modifier_4"]) == ("99213", "GT")
    assert line["submitted_modifiers"] == "25,59,XU,GT,AA"
    assert str(line["allowed_amount"]) == "10.00"
    assert line["line_control_number"] == "LINECTRL0000001"
    assert line["remark_codes"] == "N1,M2"
    assert (str(line["service_date_from"]), str(line["service_date_to"])) == (
        "2024-01-05",
        "2024-01-07",
    )
    assert adjustments.filter(adjustments["claim_seq"] == 0).height == 7
    second = claims.row(1, named=True)
    assert (str(second["service_date_from"]), str(second["service_date_to"])) == (
        "2024-03-01",
        "2024-03-10",
    )
    assert claims.row(2, named=True)["remark_codes"] == "MA01,MA02"


@pytest.mark.parametrize("name", SAMPLES_835)
def test_conform_of_polars_frames_equals_default_arrow_export(name: str) -> None:
    """conform exports plain Polars frames with string views and keeps them: the canonical
    tables it gives are, strings aside, those of Polars' default export (large strings),
    column for column."""
    import io

    from parley.ingest.base import PatientHasher
    from parley.ingest.x12 import read_835
    from parley.store.datasets import conform, plain_strings

    hasher = PatientHasher(b"secret-for-tests-0123456789")
    stream = io.BytesIO((DATA / name).read_bytes())
    for chunk in read_835(stream, file_id="f", hasher=hasher, chunk_bytes=4096):
        for table, frame in chunk.tables.items():
            got = plain_strings(conform(table, frame, file_id="f"))
            want = conform(table, frame.to_arrow(), file_id="f")
            assert got.schema == want.schema
            assert got.equals(want), table

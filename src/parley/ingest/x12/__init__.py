"""X12 readers: 835 remittances and 837P/837I claims, streamed into canonical tables.

Public surface::

    sniff_x12(head)                      -> 'x12-835' | 'x12-837p' | 'x12-837i' | None
    why_not_x12(head)                    -> why X12-looking bytes are not an 835/837, or None
    read_835(stream, file_id=, hasher=)  -> Iterator[ParsedChunk]
    read_837(stream, file_id=, hasher=)  -> Iterator[ParsedChunk]

The readers are columnar (numpy + Polars over whole batches, no per-segment
Python loop) and never raise on bad input: problems come back as data.  With
numba, a clean 835 batch is read by one compiled pass (``_fused835``); a batch
with anything to report goes column by column (``_remit_claims``), same frames.

Problem codes (severity):

=========================  =======  ===============================================
x12.not_x12                error    not X12 at all; nothing loaded
x12.empty_file             error    0 bytes (or blanks only)
x12.bad_amount             error    claim/line/CAS/AMT amount unparseable: the whole
                                    claim is quarantined (in BPR02/PLB: warning, null)
x12.missing_se             error    file ends inside a transaction: its last claim is
                                    quarantined when the cut is inside its loop;
                                    (warning when another ST/GS/IEA follows)
x12.segment_too_long       error    > 4 x chunk_bytes without a terminator: skipped
x12.wrong_transaction      error    e.g. a 277 inside an 835 file: skipped (an 835
                                    group in an 837 file, or the reverse, is read
                                    by ``parley ingest`` with the other reader)
x12.reader_failed          error    last-resort guard (never seen in the fuzz tests)
x12.bad_date               warning  date unparseable: value left null (BPR16 empty: the
                                    one date among BPR06..BPR15 is read); 837 range
                                    that ends before it starts: read in order
x12.unbalanced_line/claim/ warning  balancing rule fails: data kept, balanced=false
  remittance                        (837: CLM02 is not the sum of the line charges)
x12.missing_amount         warning  CLP03 / CLP04 / SVC02 / SVC03 / BPR02 / CLM02
                                    empty: kept empty
x12.missing_segment        warning  835 transaction without BPR, TRN, N1*PR or N1*PE:
                                    kept (no TRN: a re-sent copy is not recognised);
                                    835 claim with no service date at all
x12.misplaced_segment      warning  835 claim / line loop: LQ in the claim loop (read
                                    as the claim's remark codes); 837-style DTP*472 /
                                    150 / 151 or a claim's DTM*232 / 233 / 050 after
                                    its lines (read as the dates they are); any other
                                    segment or DTM qualifier the loop does not have,
                                    or segment the header does not (ignored)
x12.misplaced_element      warning  835 CLP06 / CLP08 / CLP09 / SVC04 value that cannot
                                    be one (an element missing or extra before it), a
                                    CAS amount with no reason code; 837 SV103 / SV204
                                    not a unit basis: kept as sent.  835 SVC01 with
                                    the ISA11 repetition separator: its first code
x12.unknown_plb_reason     warning  a PLB reason that is no adjustment reason code
                                    (elements misplaced?): kept as sent
x12.not_a_claim            error    837 predetermination (X291/X292) or payer report
                                    (X298) transaction: skipped (a file of them is
                                    refused at detection)
x12.leading_text           warning  text before the ISA: skipped
x12.segment_terminator     warning  the ISA ends with another byte than the segments
                                    after it (the GS ends with '~', the ISA with '|'):
                                    read with the segments' one
x12.component_separator    warning  the codes use another component separator than
                                    ISA16 declares ("HC>99213" under ':'): read with
                                    the data's one
x12.missing_lx             warning  837 SV1/SV2 with no LX before it: read as a line
x12.empty_transaction      warning  837 transaction with no claim; 835 transaction
                                    with no BPR, TRN or claim (no remittance row)
x12.missing_hl             warning  837 claims with no HL hierarchy, or no subscriber
                                    loop (HL 22) of their own: no payer or patient
x12.shifted_element        warning  837 CLM05 composite found in CLM03 / CLM04 /
                                    CLM06, or SV2 without revenue code (the composite
                                    in SV201), or an NM1 without NM102 (name in NM102,
                                    id in NM108): read from where it is
x12.missing_element        warning  837 CLM05-1 empty (no place of service / type of
                                    bill), CLM01 empty, a claim with no service line;
                                    835 CLP01 empty, SVC01 with no procedure code
x12.bad_npi                warning  a billing / rendering / attending / referring
                                    (837) or payee (835) NPI fails the NPI check
                                    digit: kept as sent, warned once per file
x12.unknown_status         warning  CLP02 not a known claim status
x12.unknown_group_code     warning  CAS01 not CO/PR/OA/PI/CR
x12.orphan_segment         warning  SVC/CAS/SV1 outside a claim (before the first CLP
                                    / CLM of its transaction): ignored; segments
                                    outside any transaction (after an SE or GS,
                                    before the next ST): ignored (error, not read,
                                    when a claim is among them)
x12.se_count/se_control,   warning  envelope counts / control numbers disagree
  ge_count/ge_control,
  iea_count/iea_control
x12.missing_ge/missing_iea warning  trailer missing
x12.unexpected_se/ge/iea   warning  trailer without header
x12.truncated              warning  no terminator at the end of the file (blanks, NULs
                                    and a DOS Ctrl-Z after the last one are ignored;
                                    so is a whole last IEA, or SE / GE that checks out)
x12.split_isa              warning  the ISA is broken over two lines (newline
                                    terminator): read as one
x12.mixed_delimiters       warning  a later interchange uses other delimiters (read
                                    with its own)
x12.too_many_problems      warning  more than 1000 of one code: the rest are counted
x12.duplicate_remittance   warning  (ingest service) a payment already loaded, from another
                                    file or earlier in this one: its transaction skipped
=========================  =======  ===============================================
"""

from parley.ingest.x12.envelope import sniff_x12, why_not_x12
from parley.ingest.x12.x12_835 import read_835
from parley.ingest.x12.x12_837 import read_837

__all__ = ["read_835", "read_837", "sniff_x12", "why_not_x12"]

"""Deterministic synthetic demo organisation, written as real X12 (837P claims, 835 remits).

Public surface::

    spec = DemoSpec(seed=20261123, lines=200_000, months=24, end_date=date(2026, 10, 31))
    manifest = generate_demo(out_dir, spec, progress=lambda done, total: ...)

The output is byte-identical for the same spec.  See :mod:`parley.demo.generator` for the
file layout, :mod:`parley.demo.contracts` for the pricing rule every paid line follows, and
:mod:`parley.demo.catalog` for the practice, providers, codes and payers.

Facts worth knowing when using the demo:

* Practice: CHELSEA MERIDIAN MEDICAL GROUP PC, ZIP 10001 = Medicare carrier 13202, locality 01
  (Manhattan); 33 rendering providers in 8 specialties; 6 payers / 7 product lines.
* Medicare amounts come from :func:`parley.refdata.medicare_fee` (PFS 2024 and 2025); services
  in 2026 are priced with the 2025 PFS (and any before 2024 with the 2024 PFS).
* Every paid 835 line (CLP02 1, with AMT*B6) is paid exactly at the contract's expected
  allowed, except the planted underpayments listed in ``ground_truth_underpayments.csv``
  (underpaid by more than max($1, 1%)).  Recoded lines are priced at the paid code (SVC01).
* Patients are subscribers (each has a unique member id, so per the 5010 guide the
  patient loop 2000C is not used); names and ids are fake; ``patient_key`` is opaque.
* ``lines`` is the number of service lines generated; lines whose claims would be submitted
  after ``end_date`` are not billed yet, so the 837s hold slightly fewer (manifest ``lines``).
"""

from parley.demo.generator import DemoManifest, DemoSpec, generate_demo

__all__ = ["DemoManifest", "DemoSpec", "generate_demo"]

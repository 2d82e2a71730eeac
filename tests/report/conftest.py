"""Session fixtures for the brief tests: a small demo workspace (built once), a copy with a payer that has
a contract but no remits, and no quality data, and the rendered brief of one payer."""

from __future__ import annotations

import shutil

import pytest

PAYER = "KEYSTONE NATIONAL HEALTH"
NEW_PAYER = "NEWCO HEALTH PLAN"


@pytest.fixture(scope="session")
def demo_ws(tmp_path_factory: pytest.TempPathFactory):
    """A small demo workspace (6 payers, remits, repricing, appointments, quality; no market benchmarks)."""
    from parley.services.demo import run_demo
    from parley.store.workspace import open_workspace

    folder = tmp_path_factory.mktemp("brief-demo") / "ws"
    run_demo(folder=folder, lines=6000, seed=20261123, months=24, briefs=False)
    return open_workspace(folder)


@pytest.fixture(scope="session")
def bare_ws(demo_ws, tmp_path_factory: pytest.TempPathFactory):
    """The demo workspace plus a contract for a payer with no remits; quality data removed."""
    from parley.store.workspace import open_workspace

    folder = tmp_path_factory.mktemp("brief-bare") / "ws"
    shutil.copytree(demo_ws.root, folder)
    src = next(p for p in sorted((folder / "contracts").glob("*.yaml")) if "hbs-ppo" in p.name)
    text = src.read_text(encoding="utf-8")
    contract_id = next(line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("contract_id:"))
    payer = next(line.split(":", 1)[1].strip() for line in text.splitlines() if line.strip().startswith("name:"))
    text = text.replace(contract_id, "NEWCO-PPO").replace(payer, NEW_PAYER)
    lines = text.splitlines()
    i = next(k for k, line in enumerate(lines) if line.strip().startswith("payer_ids:"))
    if lines[i].strip().endswith("]") or ":" in lines[i].split("payer_ids:", 1)[1].strip():
        lines[i] = lines[i].split("payer_ids:")[0] + "payer_ids: ['9999999999']"
    else:
        j = i + 1
        while j < len(lines) and lines[j].strip().startswith("- "):
            j += 1
        lines[i:j] = [lines[i].split("payer_ids:")[0] + "payer_ids: ['9999999999']"]
    (folder / "contracts" / "newco-ppo.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "operations" / "quality_measures.csv").unlink(missing_ok=True)
    shutil.rmtree(folder / "datasets" / "quality_measures", ignore_errors=True)
    shutil.rmtree(folder / "datasets" / "derived" / "kpi_facts", ignore_errors=True)
    return open_workspace(folder)


@pytest.fixture(scope="session")
def rendered(demo_ws, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The four files of one payer's brief (the CLI's service path)."""
    from parley.services.brief import write_brief

    out = tmp_path_factory.mktemp("brief-out")
    return write_brief(workspace=demo_ws, payer=PAYER, out=out)


@pytest.fixture(scope="session")
def demo_brief(demo_ws):
    from parley.services.brief import build_brief

    return build_brief(workspace=demo_ws, payer=PAYER)


@pytest.fixture(scope="session")
def bare_brief(bare_ws):
    from parley.services.brief import build_brief

    return build_brief(workspace=bare_ws, payer=NEW_PAYER)

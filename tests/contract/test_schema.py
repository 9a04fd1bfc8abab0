"""The published JSON Schema: valid, complete, free of NIC models, and documented."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from vifbind.contract import SPECS
from vifbind.contract.schema import DOCUMENTS, contract_markdown, contract_schema, schema_for

from builders import VIFBIND

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES: dict[str, Any] = json.loads((Path(__file__).parent / "wire_examples.json").read_text())

# Field-name parts, and values, that would mean the contract names the guest's NIC hardware
# model. (``vnic_type`` is the kind of attachment the guest wants, not a hardware model.)
NIC_MODEL_PARTS = {"model", "driver", "adapter"}
NIC_MODELS = ("virtio", "e1000", "vmxnet", "rtl8139", "netfront", "ioemu", "synthetic", "legacy")


def _property_names(node: Any) -> set[str]:
    if isinstance(node, dict):
        names = (
            set(node.get("properties", {})) if isinstance(node.get("properties"), dict) else set()
        )
        return names | {n for v in node.values() for n in _property_names(v)}
    if isinstance(node, list):
        return {n for v in node for n in _property_names(v)}
    return set()


def _enum_values(node: Any) -> set[str]:
    if isinstance(node, dict):
        own = {str(v) for v in node.get("enum", [])} | (
            {str(node["const"])} if "const" in node else set()
        )
        return own | {v for value in node.values() for v in _enum_values(value)}
    if isinstance(node, list):
        return {v for value in node for v in _enum_values(value)}
    return set()


def test_schema_is_valid_json_schema_2020_12() -> None:
    Draft202012Validator.check_schema(contract_schema())


def test_every_document_and_vif_version_is_defined() -> None:
    definitions = contract_schema()["$defs"]
    for name in DOCUMENTS:
        assert name in definitions
    for spec in SPECS.values():
        for version in spec.versions:
            assert version.model.__name__ in definitions


def test_version_lines_are_published_as_data() -> None:
    published = contract_schema()["x-vifbind-vif-versions"]
    assert published["ovs"][1] == {
        "version": "1.1",
        "added": [{"field": "datapath_type", "droppable_when": ["system"]}],
    }
    assert published["vhostuser"][1]["added"] == [{"field": "queues", "droppable_when": [1]}]


def test_no_nic_model_anywhere_in_the_contract() -> None:
    schema = contract_schema()
    names = _property_names(schema)
    assert len(names) > 50, "the walk must actually reach the models"
    offending = {n for n in names if NIC_MODEL_PARTS & set(n.lower().split("_"))}
    offending |= {n for n in names if any(model in n.lower() for model in NIC_MODELS)}
    values = _enum_values(schema)
    assert {"normal", "direct", "bridge"} <= values, "the walk must actually reach the enums"
    offending |= {v for v in values if any(model in v.lower() for model in NIC_MODELS)}
    assert not offending, f"the contract must not name a NIC model: {offending}"


def test_wire_examples_validate_against_the_published_schema() -> None:
    for name in ("Network", "Port", "HostReport", "Binding"):
        Draft202012Validator(schema_for(name)).validate(EXAMPLES[name])


def test_schema_rejects_what_the_models_reject() -> None:
    validator = Draft202012Validator(schema_for("Port"))
    bad = EXAMPLES["Port"] | {"mac": "01:00:5e:00:00:01"}
    assert not validator.is_valid(bad)
    bad_name = EXAMPLES["Binding"]["vif"] | {}
    bad_name["details"] = bad_name["details"] | {"devname": "-tap0"}
    assert not Draft202012Validator(schema_for("OvsVif11")).is_valid(bad_name)


def test_vifbind_schema_command_prints_the_schema() -> None:
    out = subprocess.run(
        [VIFBIND, "schema"], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout
    assert json.loads(out) == json.loads(json.dumps(contract_schema()))


def test_docs_contract_md_is_generated_and_current() -> None:
    committed = (ROOT / "docs" / "contract.md").read_text(encoding="utf-8")
    assert committed == contract_markdown(), (
        "docs/contract.md is stale: run `vifbind schema --markdown > docs/contract.md`"
    )

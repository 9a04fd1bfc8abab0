"""Facts derived without I/O: SR-IOV from a sysfs tree, the report from known facts."""

from __future__ import annotations

from pathlib import Path

from vifbind.contract import OvsFacts
from vifbind.host.config import HostConfig
from vifbind.host.facts import free_vfs, host_report


def fake_pf(root: Path, name: str, vf_drivers: list[str | None]) -> None:
    """A sysfs-shaped tree: /<name>/device/{sriov_numvfs,virtfnN -> vf with driver link}."""
    pf = root / name / "device"
    pf.mkdir(parents=True)
    (pf / "sriov_numvfs").write_text(f"{len(vf_drivers)}\n")
    for i, driver in enumerate(vf_drivers):
        vf = root / f"{name}-vf{i}"
        vf.mkdir()
        if driver:
            (root / "drivers" / driver).mkdir(parents=True, exist_ok=True)
            (vf / "driver").symlink_to(root / "drivers" / driver)
        (pf / f"virtfn{i}").symlink_to(vf)


def test_free_virtual_functions_are_those_bound_to_a_host_driver(tmp_path):
    fake_pf(tmp_path, "ens1f0", ["ixgbevf", "vfio-pci", None, "iavf"])
    (tmp_path / "eth0" / "device").mkdir(parents=True)
    assert free_vfs("ens1f0", tmp_path) == 2
    assert free_vfs("eth0", tmp_path) is None
    assert free_vfs("absent", tmp_path) is None


def test_report_lists_only_what_the_host_can_plug(tmp_path):
    fake_pf(tmp_path, "ens1f0", ["iavf"])
    config = HostConfig(
        host="cmp-1",
        hypervisor="kvm",
        physnets={"sriovnet": {"device": "ens1f0"}},
        tunnels={"geneve": "198.51.100.1"},
    )
    ovs = OvsFacts(bridge="br-int", datapath_type="netdev", iface_types=["dpdkvhostuserclient"])
    report = host_report(config, ovs, nft_works=False, sysfs_net=tmp_path)
    assert set(report.vif_types) == {"ovs", "bridge", "tap", "macvtap", "vhostuser"}
    assert report.enforcement.mac_spoofing == []
    assert report.physnets["sriovnet"].free_vfs == 1
    no_ovs = host_report(config.model_copy(update={"hypervisor": "netns"}), None, True, tmp_path)
    assert set(no_ovs.vif_types) == {"bridge", "tap"}
    assert no_ovs.enforcement.security_groups == ["nftables"]

"""The host's configuration file: JSON or TOML, errors that name the field."""

from __future__ import annotations

import pytest

from vifbind.errors import HostConfigError, exit_code
from vifbind.host.config import load_config


def test_toml_and_json_give_the_same_config(tmp_path):
    toml = tmp_path / "host.toml"
    toml.write_text(
        'host = "cmp-1"\nhypervisor = "netns"\nlinux_bridges = ["br-phys1"]\n'
        '[tunnels]\nvxlan = "198.51.100.1"\n[physnets.physnet1]\ndevice = "eth1"\n'
    )
    json_file = tmp_path / "host.json"
    json_file.write_text(
        '{"host": "cmp-1", "hypervisor": "netns", "linux_bridges": ["br-phys1"],'
        ' "tunnels": {"vxlan": "198.51.100.1"}, "physnets": {"physnet1": {"device": "eth1"}}}'
    )
    config = load_config(toml)
    assert config == load_config(json_file)
    assert config.allowed_linux_bridges() == {"br-phys1"}
    assert config.physnet_devices() == {"eth1"}


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ('{"host": "cmp-1", "linux_bridges": ["br;x"]}', "linux_bridges.0"),
        ('{"host": "cmp-1", "ovsdb": "/run/db.sock"}', "ovsdb"),
        ('{"host": "cmp-1", "hypervisor": "xen"}', "hypervisor"),
        ('{"host": "cmp-1", "vhostuser_socket_dir": "/run/../etc"}', "vhostuser_socket_dir"),
        ('{"hypervisor": "kvm"}', "host"),
    ],
)
def test_bad_config_names_the_field(tmp_path, text, field):
    path = tmp_path / "host.json"
    path.write_text(text)
    with pytest.raises(HostConfigError, match=rf"host config .*: {field}: ") as caught:
        load_config(path)
    assert exit_code(caught.value) == 2


def test_unreadable_config_is_a_clear_error(tmp_path):
    with pytest.raises(HostConfigError, match="No such file"):
        load_config(tmp_path / "missing.toml")
    broken = tmp_path / "host.toml"
    broken.write_text("host = ")
    with pytest.raises(HostConfigError, match="not valid toml"):
        load_config(broken)

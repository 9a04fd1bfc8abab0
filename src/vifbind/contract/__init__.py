"""The vifbind contract: the typed wire format between the network service and compute hosts.

Pure data and pure functions: nothing here performs I/O or imports the rest of vifbind.
"""

from vifbind.contract.backport import backport, spec_for
from vifbind.contract.base import Model, Record
from vifbind.contract.binding import (
    Binding,
    BindingProfile,
    BindRequest,
    Decision,
    ExplainRequest,
    Outcome,
    Status,
)
from vifbind.contract.errors import ContractError, NotExpressible, UnknownVersion
from vifbind.contract.host import (
    Dot1QbgProfile,
    Dot1QbhProfile,
    HostReport,
    Hypervisor,
    OvsFacts,
    PhysnetMapping,
    Platform,
    VmwarePlatform,
)
from vifbind.contract.network import Network, Segment, SegmentType
from vifbind.contract.port import AddressPair, Port, VnicType
from vifbind.contract.protections import (
    PROTECTIONS,
    Enforcement,
    Enforcer,
    HostMechanisms,
    ProtectionName,
    Protections,
)
from vifbind.contract.vif import AddedField, VifBase, VifTypeSpec, VifVersion
from vifbind.contract.vifs import SPECS, VIF_ADAPTER, Vif, parse_vif

__all__ = [
    "PROTECTIONS",
    "SPECS",
    "VIF_ADAPTER",
    "AddedField",
    "AddressPair",
    "BindRequest",
    "Binding",
    "BindingProfile",
    "ContractError",
    "Decision",
    "Dot1QbgProfile",
    "Dot1QbhProfile",
    "Enforcement",
    "Enforcer",
    "ExplainRequest",
    "HostMechanisms",
    "HostReport",
    "Hypervisor",
    "Model",
    "Network",
    "NotExpressible",
    "Outcome",
    "OvsFacts",
    "PhysnetMapping",
    "Platform",
    "Port",
    "ProtectionName",
    "Protections",
    "Record",
    "Segment",
    "SegmentType",
    "Status",
    "UnknownVersion",
    "Vif",
    "VifBase",
    "VifTypeSpec",
    "VifVersion",
    "VmwarePlatform",
    "VnicType",
    "backport",
    "parse_vif",
    "spec_for",
]

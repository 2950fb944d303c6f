"""The one table of fields doorhunt emits that ECS 9.4.0 lacks.

Where Elastic Defend already has a `*.Ext.*` field for the same thing, doorhunt uses Defend's name
and type so Elastic's rules and Kibana views work on doorhunt data; everything else lives under
`doorhunt.*`. Add a row here (and to docs/ecs.md, which a test checks) for every new field.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

Origin = Literal["defend", "doorhunt"]


@dataclass(frozen=True, slots=True)
class ExtensionField:
    """One field outside ECS: its flat name, Elasticsearch type, one-line meaning, and origin."""

    name: str
    type: str
    description: str
    origin: Origin


EXTENSION_FIELDS: Final[tuple[ExtensionField, ...]] = (
    # Elastic Defend (elastic/endpoint-package, custom_schemas/custom_process.yml: `Ext.ancestry`,
    # keyword). Defend's process data stream has no `process.parent.Ext.ancestry`
    # (package/endpoint/data_stream/process/fields/fields.yml), so doorhunt adds none either.
    ExtensionField(
        "process.Ext.ancestry",
        "keyword",
        "Entity ids of the process's ancestors, direct parent first.",
        "defend",
    ),
    # Classic-BPF socket filters (doorhunt.bpf).
    ExtensionField(
        "doorhunt.bpf.bytecode",
        "keyword",
        "The filter program as hex of its struct sock_filter array, 8 bytes per instruction.",
        "doorhunt",
    ),
    ExtensionField(
        "doorhunt.bpf.instructions",
        "long",
        "Number of instructions in the filter program.",
        "doorhunt",
    ),
    ExtensionField(
        "doorhunt.bpf.class",
        "keyword",
        "The classifier's verdict on the filter (bpfdoor, payload-magic, dhcp, capture-all, ...).",
        "doorhunt",
    ),
    ExtensionField(
        "doorhunt.bpf.suspicious",
        "boolean",
        "Whether the classifier judged the filter suspicious.",
        "doorhunt",
    ),
    ExtensionField(
        "doorhunt.bpf.score",
        "long",
        "Suspicion score the classifier gave the filter.",
        "doorhunt",
    ),
    ExtensionField(
        "doorhunt.bpf.magic",
        "flattened",
        "Payload comparisons the filter requires: a list of {protocol, offset, size, value}.",
        "doorhunt",
    ),
    ExtensionField(
        "doorhunt.bpf.protocols",
        "keyword",
        "Protocols of the packets the filter can accept.",
        "doorhunt",
    ),
    ExtensionField(
        "doorhunt.bpf.link",
        "keyword",
        "What the filter's offset 0 is: ethernet (link header) or ip (network header).",
        "doorhunt",
    ),
    # The socket a filter is attached to (doorhunt.host, netlink sock_diag).
    ExtensionField(
        "doorhunt.socket.inode",
        "long",
        "Inode number of the socket, as in socket:[N].",
        "doorhunt",
    ),
    ExtensionField(
        "doorhunt.socket.family",
        "keyword",
        "Address family of the socket (packet, inet, inet6).",
        "doorhunt",
    ),
    ExtensionField(
        "doorhunt.socket.type",
        "keyword",
        "Socket type (raw, dgram, stream).",
        "doorhunt",
    ),
    ExtensionField(
        "doorhunt.socket.protocol",
        "long",
        "Protocol number the socket was opened with (EtherType for packet sockets).",
        "doorhunt",
    ),
    ExtensionField(
        "doorhunt.socket.interface",
        "keyword",
        "Interface the socket is bound to, if any.",
        "doorhunt",
    ),
    ExtensionField(
        "doorhunt.socket.netns",
        "long",
        "Inode of the network namespace the socket belongs to.",
        "doorhunt",
    ),
    # Host sweep findings (doorhunt.sweep).
    ExtensionField(
        "doorhunt.finding.check",
        "keyword",
        "Name of the sweep check that produced the finding.",
        "doorhunt",
    ),
    ExtensionField(
        "doorhunt.finding.severity",
        "keyword",
        "Severity of the finding.",
        "doorhunt",
    ),
    ExtensionField(
        "doorhunt.finding.score",
        "long",
        "Score of the finding, the basis of its severity.",
        "doorhunt",
    ),
    ExtensionField(
        "doorhunt.finding.evidence",
        "flattened",
        "The raw evidence behind the finding (paths, inodes, bytecode, timestamps).",
        "doorhunt",
    ),
    # What the run could not see: reported as gaps, never as "clean" (DESIGN.md, principle 1).
    ExtensionField(
        "doorhunt.visibility.complete",
        "boolean",
        "Whether the run saw everything it needed to see.",
        "doorhunt",
    ),
    ExtensionField(
        "doorhunt.visibility.gaps",
        "keyword",
        "What limited the run (not root, no CAP_NET_ADMIN, hidepid, old kernel, ...).",
        "doorhunt",
    ),
)

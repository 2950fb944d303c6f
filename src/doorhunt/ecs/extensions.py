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
        "doorhunt.sweep.verdict",
        "keyword",
        "The sweep's verdict on the host: clean, suspicious, compromised or degraded.",
        "doorhunt",
    ),
    ExtensionField(
        "doorhunt.sweep.score",
        "long",
        "The highest finding or process score of the sweep (0-100).",
        "doorhunt",
    ),
    ExtensionField(
        "doorhunt.sweep.complete",
        "boolean",
        "Whether the sweep saw everything (no visibility gaps, no failed checks).",
        "doorhunt",
    ),
    ExtensionField(
        "doorhunt.sweep.findings",
        "long",
        "Number of findings the sweep made.",
        "doorhunt",
    ),
    ExtensionField(
        "doorhunt.sweep.gaps",
        "keyword",
        "What the sweep could not see (visibility gaps and failed checks).",
        "doorhunt",
    ),
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
    # The live sensor (doorhunt.sensor): events it could only partly describe, name changes,
    # and its own counters, reported in its status events.
    ExtensionField(
        "file.Ext.original.path",
        "keyword",
        "Where a renamed file was before (Elastic Defend's name).",
        "defend",
    ),
    ExtensionField(
        "doorhunt.file.running_executable",
        "boolean",
        "The deleted or renamed file is the executable of a running process.",
        "doorhunt",
    ),
    ExtensionField(
        "doorhunt.event.partial",
        "boolean",
        "The process was gone before /proc could be read: the event holds what was known.",
        "doorhunt",
    ),
    ExtensionField(
        "doorhunt.process.previous_name",
        "keyword",
        "The process name (comm) before a name change.",
        "doorhunt",
    ),
    ExtensionField(
        "doorhunt.sensor.events",
        "long",
        "Documents the sensor emitted since it started.",
        "doorhunt",
    ),
    ExtensionField(
        "doorhunt.sensor.lost",
        "long",
        "Kernel messages the sensor lost (receive buffer overflow) since it started.",
        "doorhunt",
    ),
    ExtensionField(
        "doorhunt.sensor.dropped",
        "long",
        "Documents a full queue or a failing sink dropped since the sensor started.",
        "doorhunt",
    ),
    ExtensionField(
        "doorhunt.sensor.sources",
        "keyword",
        "Event sources running (proc_connector, audit, fanotify).",
        "doorhunt",
    ),
    ExtensionField(
        "doorhunt.sensor.alerts",
        "long",
        "Alerts the sensor's rules raised since it started.",
        "doorhunt",
    ),
    # Alerts of the detection rules (docs/rule-format.md).
    ExtensionField(
        "doorhunt.alert.severity",
        "keyword",
        "The rule's severity: low, medium, high or critical.",
        "doorhunt",
    ),
    ExtensionField(
        "doorhunt.alert.status",
        "keyword",
        "Triage status of the alert: open, acknowledged or closed.",
        "doorhunt",
    ),
    ExtensionField(
        "doorhunt.alert.source_event_ids",
        "keyword",
        "event.id of each event the rule matched, in order.",
        "doorhunt",
    ),
    ExtensionField(
        "doorhunt.alert.entity_ids",
        "keyword",
        "Every process and parent entity id of the matched events.",
        "doorhunt",
    ),
    ExtensionField(
        "doorhunt.alert.response",
        "flattened",
        "Response actions taken or, in a dry run, that would be taken: action, target, outcome, reason.",
        "doorhunt",
    ),
    # Network magic-packet scanner (doorhunt.scan).
    ExtensionField(
        "doorhunt.scan.status",
        "keyword",
        "Scan outcome for one target: responded, other-address, no-response or error.",
        "doorhunt",
    ),
    ExtensionField(
        "doorhunt.scan.probes",
        "long",
        "Probe packets the scanner sent to the target, every try counted.",
        "doorhunt",
    ),
    ExtensionField(
        "doorhunt.scan.replies",
        "flattened",
        "Ping-backs matched to the target's probes: a list of {protocol, magic, source, latency_ms, ...}.",
        "doorhunt",
    ),
    ExtensionField(
        "doorhunt.scan.summary",
        "flattened",
        "Counts over a whole scan: targets, probes sent, responded, silent, errors, junk, rate.",
        "doorhunt",
    ),
    # Linux audit events (doorhunt.ingest.auditd): what the audit record adds to ECS.
    ExtensionField(
        "doorhunt.audit.serial",
        "long",
        "Serial number of the Linux audit event the document was made from.",
        "doorhunt",
    ),
    ExtensionField(
        "doorhunt.audit.syscall",
        "keyword",
        "Name of the system call the audit event records (execve, connect, ...).",
        "doorhunt",
    ),
    ExtensionField(
        "doorhunt.audit.exit",
        "long",
        "Return value of the system call (a negative errno on failure).",
        "doorhunt",
    ),
    ExtensionField(
        "doorhunt.audit.key",
        "keyword",
        "Keys of the audit rules that matched (auditctl -k).",
        "doorhunt",
    ),
    ExtensionField(
        "doorhunt.audit.auid",
        "keyword",
        "Login user id (auid) of the process: who logged in, whatever ids it has now.",
        "doorhunt",
    ),
    ExtensionField(
        "doorhunt.audit.session",
        "keyword",
        "Audit session id (ses) of the process's login.",
        "doorhunt",
    ),
    ExtensionField(
        "doorhunt.audit.records",
        "keyword",
        "Types of the audit records the event was built from (SYSCALL, EXECVE, PATH, ...).",
        "doorhunt",
    ),
    ExtensionField(
        "doorhunt.audit.complete",
        "boolean",
        "False when the audit event ended without its EOE record (some records may be missing).",
        "doorhunt",
    ),
    ExtensionField(
        "doorhunt.socket.fd",
        "long",
        "Descriptor number of the socket in the process.",
        "doorhunt",
    ),
    ExtensionField(
        "doorhunt.bpf.attach",
        "keyword",
        "How the filter was attached: SO_ATTACH_FILTER (classic), SO_ATTACH_BPF (eBPF), or reuseport.",
        "doorhunt",
    ),
    ExtensionField(
        "doorhunt.ptrace.request",
        "keyword",
        "The ptrace request (PTRACE_ATTACH, PTRACE_POKETEXT, ...).",
        "doorhunt",
    ),
    ExtensionField(
        "doorhunt.ptrace.target_pid",
        "long",
        "Process id the ptrace request is aimed at.",
        "doorhunt",
    ),
    ExtensionField(
        "doorhunt.module.name",
        "keyword",
        "Name of the kernel module being loaded.",
        "doorhunt",
    ),
    # Sample analysis and YARA hits (doorhunt.sample, docs/sample.md and docs/yara.md).
    ExtensionField(
        "doorhunt.sample.class",
        "keyword",
        "Verdict of doorhunt sample on the file: bpfdoor, suspicious or clean.",
        "doorhunt",
    ),
    ExtensionField(
        "doorhunt.sample.score",
        "long",
        "Score (0-100) of the sample verdict.",
        "doorhunt",
    ),
    ExtensionField(
        "doorhunt.sample.reasons",
        "keyword",
        "Why the sample got its verdict, one sentence per piece of evidence.",
        "doorhunt",
    ),
    ExtensionField(
        "doorhunt.sample.config",
        "flattened",
        "The configuration extracted from the sample (magics, triggers, passwords, paths, addresses, ...).",
        "doorhunt",
    ),
    ExtensionField(
        "doorhunt.sample.packer",
        "keyword",
        "The packer the sample is packed with (UPX), if any.",
        "doorhunt",
    ),
    ExtensionField(
        "doorhunt.sample.yara_rules",
        "keyword",
        "YARA rules that matched the sample.",
        "doorhunt",
    ),
    ExtensionField(
        "doorhunt.yara.source",
        "keyword",
        "What the YARA hit was found in: file, exe (a process's executable) or memory.",
        "doorhunt",
    ),
    ExtensionField(
        "doorhunt.yara.region",
        "keyword",
        "The memory mapping of a hit in process memory, as /proc/PID/maps describes it.",
        "doorhunt",
    ),
    ExtensionField(
        "doorhunt.yara.base_address",
        "keyword",
        "Address (hex) of the start of the scanned memory region; match offsets count from it.",
        "doorhunt",
    ),
    ExtensionField(
        "doorhunt.yara.matches",
        "flattened",
        "The matched strings: a list of {identifier, offset, length, data (hex of the first 64 bytes)}.",
        "doorhunt",
    ),
)

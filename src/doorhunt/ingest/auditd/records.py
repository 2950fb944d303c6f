"""Linux audit records: one line of audit.log, or one message from the audit netlink socket.

Formats (auditd.conf(5) `log_format`, the kernel's kernel/audit.c and auditsc.c):

    [node=NAME ]type=SYSCALL msg=audit(1700000000.123:456): arch=c000003e syscall=59 ...
    ... the same, then \\x1d and the ENRICHED translations: ARCH=x86_64 SYSCALL=execve AUID="root"

Values the kernel cannot trust (comm, exe, paths, arguments, proctitle, the rule key) are
written by audit_log_untrustedstring(): in double quotes when they hold nothing special, else
as uppercase hex of their bytes with no quotes. User-space records carry a `msg='...'` whose
fields are read like the others. Parsing never raises: a line that is not a record gives None.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

# linux/audit.h (kernel records) and libaudit.h (user-space records), as ausearch names them.
RECORD_TYPES: Final[dict[int, str]] = {
    1006: "LOGIN",
    1100: "USER_AUTH",
    1101: "USER_ACCT",
    1102: "USER_MGMT",
    1103: "CRED_ACQ",
    1104: "CRED_DISP",
    1105: "USER_START",
    1106: "USER_END",
    1107: "USER_AVC",
    1108: "USER_CHAUTHTOK",
    1109: "USER_ERR",
    1110: "CRED_REFR",
    1111: "USYS_CONFIG",
    1112: "USER_LOGIN",
    1113: "USER_LOGOUT",
    1114: "ADD_USER",
    1115: "DEL_USER",
    1116: "ADD_GROUP",
    1117: "DEL_GROUP",
    1118: "DAC_CHECK",
    1119: "CHGRP_ID",
    1120: "TEST",
    1121: "TRUSTED_APP",
    1122: "USER_SELINUX_ERR",
    1123: "USER_CMD",
    1124: "USER_TTY",
    1125: "CHUSER_ID",
    1126: "GRP_AUTH",
    1127: "SYSTEM_BOOT",
    1128: "SYSTEM_SHUTDOWN",
    1129: "SYSTEM_RUNLEVEL",
    1130: "SERVICE_START",
    1131: "SERVICE_STOP",
    1132: "GRP_MGMT",
    1133: "GRP_CHAUTHTOK",
    1134: "MAC_CHECK",
    1135: "ACCT_LOCK",
    1136: "ACCT_UNLOCK",
    1137: "USER_DEVICE",
    1138: "SOFTWARE_UPDATE",
    1200: "DAEMON_START",
    1201: "DAEMON_END",
    1202: "DAEMON_ABORT",
    1203: "DAEMON_CONFIG",
    1204: "DAEMON_RECONFIG",
    1205: "DAEMON_ROTATE",
    1206: "DAEMON_RESUME",
    1207: "DAEMON_ACCEPT",
    1208: "DAEMON_CLOSE",
    1209: "DAEMON_ERR",
    1300: "SYSCALL",
    1302: "PATH",
    1303: "IPC",
    1304: "SOCKETCALL",
    1305: "CONFIG_CHANGE",
    1306: "SOCKADDR",
    1307: "CWD",
    1309: "EXECVE",
    1311: "IPC_SET_PERM",
    1312: "MQ_OPEN",
    1313: "MQ_SENDRECV",
    1314: "MQ_NOTIFY",
    1315: "MQ_GETSETATTR",
    1316: "KERNEL_OTHER",
    1317: "FD_PAIR",
    1318: "OBJ_PID",
    1319: "TTY",
    1320: "EOE",
    1321: "BPRM_FCAPS",
    1322: "CAPSET",
    1323: "MMAP",
    1324: "NETFILTER_PKT",
    1325: "NETFILTER_CFG",
    1326: "SECCOMP",
    1327: "PROCTITLE",
    1328: "FEATURE_CHANGE",
    1329: "REPLACE",
    1330: "KERN_MODULE",
    1331: "FANOTIFY",
    1332: "TIME_INJOFFSET",
    1333: "TIME_ADJNTPVAL",
    1334: "BPF",
    1335: "EVENT_LISTENER",
    1336: "URINGOP",
    1337: "OPENAT2",
    1338: "DM_CTRL",
    1339: "DM_EVENT",
    1400: "AVC",
    1401: "SELINUX_ERR",
    1402: "AVC_PATH",
    1403: "MAC_POLICY_LOAD",
    1404: "MAC_STATUS",
    1405: "MAC_CONFIG_CHANGE",
    1700: "ANOM_PROMISCUOUS",
    1701: "ANOM_ABEND",
    1702: "ANOM_LINK",
    1703: "ANOM_CREAT",
    1800: "INTEGRITY_DATA",
    1801: "INTEGRITY_METADATA",
    1802: "INTEGRITY_STATUS",
    1803: "INTEGRITY_HASH",
    1804: "INTEGRITY_PCR",
    1805: "INTEGRITY_RULE",
    1806: "INTEGRITY_EVM_XATTR",
    1807: "INTEGRITY_POLICY_RULE",
    2100: "ANOM_LOGIN_FAILURES",
    2101: "ANOM_LOGIN_TIME",
    2102: "ANOM_LOGIN_SESSIONS",
    2103: "ANOM_LOGIN_ACCT",
    2104: "ANOM_LOGIN_LOCATION",
    2105: "ANOM_MAX_DAC",
    2106: "ANOM_MAX_MAC",
    2107: "ANOM_AMTU_FAIL",
    2108: "ANOM_RBAC_FAIL",
    2109: "ANOM_RBAC_INTEGRITY_FAIL",
    2110: "ANOM_CRYPTO_FAIL",
    2111: "ANOM_ACCESS_FS",
    2112: "ANOM_EXEC",
    2113: "ANOM_MK_EXEC",
    2114: "ANOM_ADD_ACCT",
    2115: "ANOM_DEL_ACCT",
    2116: "ANOM_MOD_ACCT",
    2117: "ANOM_ROOT_TRANS",
    2118: "ANOM_LOGIN_SERVICE",
    2119: "ANOM_LOGIN_ROOT",
    2120: "ANOM_ORIGIN_FAILURES",
    2121: "ANOM_SESSION",
}
RECORD_NUMBERS: Final[dict[str, int]] = {name: number for number, name in RECORD_TYPES.items()}

# Fields written by audit_log_untrustedstring()/audit_log_n_untrustedstring() in the kernel,
# or audit_encode_nv_string() in libaudit; EXECVE's aN and aN[M] too (see _is_encoded).
ENCODED_FIELDS: Final = frozenset(
    {"comm", "exe", "name", "cwd", "proctitle", "key", "path", "dir", "acct", "cmd", "data"}
)

# Longer than any record the kernel writes (MAX_AUDIT_MESSAGE_LENGTH is 8970 bytes) with room
# for the ENRICHED translations; anything longer is not an audit record.
MAX_LINE: Final = 65_536

_HEADER: Final = re.compile(
    r"(?:node=(?P<node>\S+) )?type=(?P<type>\S+) "
    r"msg=audit\((?P<seconds>\d{1,12})\.(?P<fraction>\d{1,9}):(?P<serial>\d{1,20})\):"
)
_NETLINK_HEADER: Final = re.compile(
    r"audit\((?P<seconds>\d{1,12})\.(?P<fraction>\d{1,9}):(?P<serial>\d{1,20})\):"
)
# key=value, the value quoted with " or ', braced (ENRICHED SADDR={ ... }), or a bare token.
_FIELD: Final = re.compile(r"""([^\s=]+)=("[^"]*"?|'[^']*'?|\{[^}]*\}?|\S*)""")
_HEX: Final = re.compile(r"(?:[0-9A-F]{2})+")
_EXECVE_ARGUMENT: Final = re.compile(r"a\d+(?:\[\d+\])?")


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One record. `fields` holds decoded text: quotes removed, hex-encoded strings decoded
    (undecodable bytes as surrogates), `node` from the line prefix; the ENRICHED translations
    keep their upper-case names (`AUID`, `SYSCALL`). `raw` is the record as read."""

    type: str
    serial: int
    timestamp: float
    fields: dict[str, str] = field(hash=False)
    raw: str

    @property
    def node(self) -> str | None:
        return self.fields.get("node")


def parse_line(line: str) -> AuditRecord | None:
    """One audit.log line (raw or ENRICHED), or None when it is not an audit record."""
    line = line.rstrip("\r\n")
    if len(line) > MAX_LINE:
        return None
    match = _HEADER.match(line)
    if match is None:
        return None
    fields: dict[str, str] = {}
    if match.group("node"):
        fields["node"] = decode_text(match.group("node"))
    return _record(match.group("type"), match, line, line[match.end() :], fields)


def parse_netlink(message_type: int, text: str) -> AuditRecord | None:
    """A message from the audit netlink socket: its numeric type and its text
    (`audit(1700000000.123:456): arch=...`), or None when the text is not a record."""
    text = text.rstrip("\x00\r\n")
    if len(text) > MAX_LINE:
        return None
    match = _NETLINK_HEADER.match(text)
    if match is None:
        return None
    name = RECORD_TYPES.get(message_type, f"UNKNOWN[{message_type}]")
    return _record(name, match, f"type={name} msg={text}", text[match.end() :], {})


def _record(
    type_name: str, header: re.Match[str], raw: str, body: str, fields: dict[str, str]
) -> AuditRecord:
    plain, _, enriched = body.partition("\x1d")
    _read_fields(plain, type_name, fields)
    if enriched:
        _read_fields(enriched, type_name, fields)
    fraction = header.group("fraction")
    timestamp = int(header.group("seconds")) + int(fraction) / 10 ** len(fraction)
    return AuditRecord(type_name, int(header.group("serial")), timestamp, fields, raw)


def _read_fields(text: str, type_name: str, fields: dict[str, str]) -> None:
    for match in _FIELD.finditer(text):
        key, value = match.group(1), match.group(2)
        if key == "msg" and value.startswith("'"):
            # User-space records: the fields inside msg='...' are the record's own.
            _read_fields(value[1:].rstrip("'"), type_name, fields)
            continue
        if key in fields:
            continue  # the first spelling wins (user records may repeat pid, uid, ...)
        fields[key] = _decode_value(key, value, type_name)


def _decode_value(key: str, value: str, type_name: str) -> str:
    if value.startswith('"'):
        return value[1:].removesuffix('"')
    if value.startswith("'"):
        return value[1:].removesuffix("'")
    if _is_encoded(key, type_name) and _HEX.fullmatch(value):
        return decode_text(bytes.fromhex(value))
    return value


def _is_encoded(key: str, type_name: str) -> bool:
    if key in ENCODED_FIELDS:
        return True
    return type_name == "EXECVE" and _EXECVE_ARGUMENT.fullmatch(key) is not None


def decode_text(data: bytes | str) -> str:
    """Bytes as text; bytes that are not UTF-8 become surrogates (os.fsdecode's convention),
    so the exact bytes can be recovered and JSON writers can escape them."""
    if isinstance(data, str):
        return data
    return data.decode("utf-8", "surrogateescape")


__all__ = [
    "ENCODED_FIELDS",
    "MAX_LINE",
    "RECORD_NUMBERS",
    "RECORD_TYPES",
    "AuditRecord",
    "decode_text",
    "parse_line",
    "parse_netlink",
]

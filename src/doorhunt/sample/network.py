"""Controller addresses a sample carries: IPv4 and IPv6 literals, host:port, domain names, URLs.

The classic BPFDoor has no controller address (the magic packet names the host to call back,
BPFDOOR.md §2); its kin and later builds beacon out (BPFDOOR.md §1, 2026: "a no-BPF
active-beacon variant"). A binary is full of dotted text that is no address: version numbers,
library and file names, OIDs, documentation links. The finder is conservative and says how
sure it is of each address:

- high: the whole string is an address with a port, or a URL (a configuration slot);
- medium: the whole string is an address or a domain name;
- low: the address sits inside longer text.

A string the code builds on its stack is one step surer (it was hidden on purpose). Dropped as
noise: loopback, unspecified, broadcast and multicast addresses; documentation ranges (RFC 5737,
RFC 3849, the RFC 2606/6761 names) inside longer text, where they are examples (alone they are
kept, with their scope); version numbers (dotted quads with leading zeros, or without a port
and every part below 10, below 64 inside text, or after "version"/"Linux"/...); names whose
last label is no top-level domain (a name alone needs a common one), or is a file extension
(`libssl.so`, `setup.py`, `parser.cc:812`); e-mail addresses; the domains of the projects
whose links every system program carries (gnu.org, ...).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from dataclasses import dataclass

from doorhunt.sample.strings import Confidence, JoinedStrings, Place

MAX_INDICATORS = 100
MAX_PLACES = 8
MAX_MATCHES = 20_000  # candidate tokens examined in one sample
MAX_TEXT_SHOWN = 200

# Every pattern starts with a literal character: Python's regular expressions search for a
# literal prefix at memory speed and test a leading class or look-behind at every position
# (a hundred times slower over megabytes of strings). Boundaries are checked afterwards.
_URL = re.compile(
    r"://(?P<host>\[[0-9A-Fa-f:.]{2,45}\]|[A-Za-z0-9.-]{1,253})(?::(?P<port>\d{1,5}))?"
    r"(?P<path>[^\s\"'<>]{0,200})"
)
_SCHEME = re.compile(r"(?<![\w+.-])(?:https?|ftp|wss?)$")
# The last three parts of a dotted quad (a literal dot first); the first is read backwards.
_IPV4_TAIL = re.compile(r"\.\d{1,3}\.\d{1,3}\.\d{1,3}(?::(?P<port>\d{1,5}))?")
_IPV6_BRACKETED = re.compile(r"\[(?P<host>[0-9A-Fa-f:.]{2,45})\]:(?P<port>\d{1,5})(?!\w)")
_IPV6_HINT = re.compile(r":[0-9A-Fa-f]{0,4}:")
_HEX_COLON = frozenset("0123456789abcdefABCDEF:")
# A domain is found from its top-level label (a literal dot first: a fast search), then read
# backwards character by character (a backwards regular expression search is quadratic).
_TOP_LABEL = re.compile(r"\.(?P<tld>[a-z]{2,24})(?![\w-]|\.[a-z0-9])(?::(?P<p>\d{1,5}))?")
_LABELS = re.compile(
    r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.){0,8}[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
)
_NAME_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789.-")
_VERSION_BEFORE = re.compile(r"(?i)(?:version|ver\.?|release|linux|kernel|v)\s*$")

# Top-level domains (IANA root zone database) of a name standing on its own: generic ones and
# country codes often used for controllers that are no common word or abbreviation in program
# text ("os.name", "value.ir", "glibc.malloc.top" are identifiers). In a URL or before a port
# any of SLOT_TLDS, or any other two-letter country code, is an address.
BARE_TLDS = frozenset(
    {"com", "net", "org", "biz", "xyz", "ru", "su", "cn", "kr", "jp", "tk", "onion"}
)
SLOT_TLDS = BARE_TLDS | frozenset(
    {
        *("info", "top", "online", "site", "club", "live", "tech", "store", "shop", "vip", "work"),
        *("link", "click", "icu", "cyou", "buzz", "asia", "space", "website", "fun", "pro", "app"),
        *("dev", "cloud", "host", "news", "mobi", "name", "io"),
    }
)
# RFC 2606 and RFC 6761: names that can never be a real host.
RESERVED_TLDS = frozenset({"invalid", "example", "test", "localhost"})
RESERVED_DOMAINS = frozenset({"example.com", "example.net", "example.org"})
# Last labels that are file extensions far more often than country codes.
FILE_EXTENSIONS = frozenset(
    {"so", "sh", "py", "pl", "pm", "rs", "md", "js", "cc", "cs", "hh", "mo", "ko", "gz", "xz"}
)
# Projects whose links and contact addresses are in every system program's strings.
NOISE_DOMAINS = frozenset(
    {
        *("gnu.org", "fsf.org", "kernel.org", "debian.org", "ubuntu.com", "launchpad.net"),
        *("freedesktop.org", "gnome.org", "kde.org", "python.org", "perl.org", "mozilla.org"),
        *("openssl.org", "openssh.com", "apache.org", "sourceware.org", "sourceforge.net"),
        *("sqlite.org", "w3.org", "xmlsoap.org", "purl.org", "ietf.org", "iana.org"),
        *("unicode.org", "github.com", "gitlab.com", "kitware.com", "cmake.org", "llvm.org"),
        *("rust-lang.org", "golang.org", "oasis-open.org", "x.org", "systemd.io", "curl.se"),
        *("haxx.se", "zlib.net", "libpng.org", "gnupg.org", "openldap.org", "isc.org"),
        *("samba.org", "postgresql.org", "mysql.com", "mariadb.org", "opengroup.org"),
        *("microsoft.com", "apple.com", "adobe.com", "google.com", "googleapis.com"),
        *("mitre.org", "sun.com", "oracle.com", "redhat.com", "fedoraproject.org"),
    }
)


@dataclass(frozen=True, slots=True)
class NetworkIndicator:
    """An address the sample may connect to, with how it was written and how sure it is."""

    kind: str  # "ipv4", "ipv6" or "domain"
    host: str
    port: int | None
    url: str | None
    scope: str  # addresses: global, private, documentation, link-local, reserved; names: public, reserved
    confidence: Confidence
    text: str  # the string it was found in (cut at MAX_TEXT_SHOWN characters)
    places: tuple[Place, ...]

    @property
    def value(self) -> str:
        if self.url:
            return self.url
        host = f"[{self.host}]" if self.kind == "ipv6" and self.port is not None else self.host
        return f"{host}:{self.port}" if self.port is not None else host

    def to_json(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "value": self.value,
            "host": self.host,
            "port": self.port,
            "url": self.url,
            "scope": self.scope,
            "confidence": self.confidence.value,
            "text": self.text,
            "places": [place.to_json() for place in self.places],
        }


@dataclass(frozen=True, slots=True)
class _Candidate:
    kind: str
    host: str
    port: int | None
    url: str | None
    start: int  # in the joined text
    end: int


def find_network_indicators(joined: JoinedStrings) -> list[NetworkIndicator]:
    """The addresses in the strings, most confident first, at most MAX_INDICATORS."""
    found: dict[tuple[str, str, int | None, str | None], NetworkIndicator] = {}
    taken: set[tuple[int, int]] = set()
    for candidate in _candidates(joined.text):
        if any(start <= candidate.start < end for start, end in taken):
            continue  # inside a URL already read
        indicator = _judge(joined, candidate)
        if indicator is None:
            continue
        taken.add((candidate.start, candidate.end))
        key = (indicator.kind, indicator.host, indicator.port, indicator.url)
        known = found.get(key)
        if known is None:
            found[key] = indicator
        elif len(known.places) < MAX_PLACES:
            best = max(known.confidence, indicator.confidence, key=_RANK.__getitem__)
            found[key] = NetworkIndicator(
                known.kind,
                known.host,
                known.port,
                known.url,
                known.scope,
                best,
                known.text,
                (*known.places, *indicator.places),
            )
    ranked = sorted(found.values(), key=lambda i: (-_RANK[i.confidence], i.kind, i.value))
    return ranked[:MAX_INDICATORS]


_RANK = {Confidence.HIGH: 2, Confidence.MEDIUM: 1, Confidence.LOW: 0}


def _candidates(text: str) -> Iterator[_Candidate]:
    """URLs first (their hosts are not read twice), then addresses and names."""
    seen = 0
    for finder in (_urls, _bracketed, _ipv4s, _ipv6s, _domains):
        for candidate in finder(text):
            seen += 1
            if seen > MAX_MATCHES:
                return
            yield candidate


def _urls(text: str) -> Iterator[_Candidate]:
    for match in _URL.finditer(text):
        scheme = _SCHEME.search(text, max(0, match.start() - 5), match.start())
        port = _port(match.group("port"))
        if scheme is None or (match.group("port") and port is None):
            continue
        host = match.group("host").strip("[]")
        url = text[scheme.start() : match.end()]
        yield _Candidate(_host_kind(host), host, port, url, scheme.start(), match.end())


def _bracketed(text: str) -> Iterator[_Candidate]:
    for match in _IPV6_BRACKETED.finditer(text):
        port = _port(match.group("port"))
        if port is not None:
            yield _Candidate("ipv6", match.group("host"), port, None, match.start(), match.end())


def _ipv4s(text: str) -> Iterator[_Candidate]:
    for match in _IPV4_TAIL.finditer(text):
        start, end = match.start(), match.end()
        first = start
        while first > max(0, start - 3) and text[first - 1].isdigit():
            first -= 1
        if first == start:
            continue
        before = text[first - 1] if first else ""
        after = text[end : end + 2]
        if _joins(before, "_.:/-") or _joins(after[:1], "_-"):
            continue
        if after[:1] in (".", ":") and after[1:].isalnum():
            continue
        port = _port(match.group("port"))
        if match.group("port") and port is None:
            continue
        host = text[first:end].split(":", 1)[0]
        yield _Candidate("ipv4", host, port, None, first, end)


def _ipv6s(text: str) -> Iterator[_Candidate]:
    """Runs of hex digits and colons around each `:x:` (a literal first: fast), read whole."""
    last_end = -1
    for match in _IPV6_HINT.finditer(text):
        start, end = match.start(), match.end()
        if start < last_end:
            continue
        floor, ceiling = max(0, start - 40), min(len(text), end + 40)
        while start > floor and text[start - 1] in _HEX_COLON:
            start -= 1
        while end < ceiling and text[end] in _HEX_COLON:
            end += 1
        last_end = end
        before = text[start - 1] if start else ""
        after = text[end] if end < len(text) else ""
        if _joins(before, "_.[") or _joins(after, "_.]"):
            continue
        yield _Candidate("ipv6", text[start:end], None, None, start, end)


def _domains(text: str) -> Iterator[_Candidate]:
    for match in _TOP_LABEL.finditer(text):
        end = match.start()
        start = end
        floor = max(0, end - 253)  # RFC 1035: a name is at most 253 characters
        while start > floor and text[start - 1] in _NAME_CHARACTERS:
            start -= 1
        while start < end and text[start] in ".-":
            start += 1
        before = text[start - 1] if start else ""
        if start == end or _joins(before, "@.-_/\\") or not _LABELS.fullmatch(text, start, end):
            continue  # no name, or part of a longer token, a path or an e-mail address
        host = text[start:end] + "." + match.group("tld")
        yield _Candidate("domain", host, _port(match.group("p")), None, start, match.end())


def _joins(character: str, punctuation: str) -> bool:
    """Whether `character` (one, or none at the text's edge) continues a token."""
    return bool(character) and (character.isalnum() or character in punctuation)


def _port(text: str | None) -> int | None:
    if not text:
        return None
    number = int(text)
    return number if 0 < number < 65536 else None


def _host_kind(host: str) -> str:
    try:
        return "ipv4" if ipaddress.ip_address(host).version == 4 else "ipv6"
    except ValueError:
        return "domain"


def _judge(joined: JoinedStrings, candidate: _Candidate) -> NetworkIndicator | None:
    string, inside = joined.at(candidate.start)
    alone = inside == 0 and candidate.end - candidate.start == len(string.value)
    slot = candidate.port is not None or candidate.url is not None
    if candidate.kind == "domain":
        scope = _domain_scope(candidate.host, slot)
    else:
        scope = _address_scope(candidate, string.value[:inside], alone)
    if scope is None or (scope in ("documentation", "reserved") and not alone):
        return None
    standing = Confidence.HIGH if slot else Confidence.MEDIUM
    confidence = standing if alone else Confidence.LOW
    if string.origin == "stack":
        confidence = confidence.raised()
    text = string.value if len(string.value) <= MAX_TEXT_SHOWN else string.value[:MAX_TEXT_SHOWN]
    return NetworkIndicator(
        candidate.kind,
        candidate.host,
        candidate.port,
        candidate.url,
        scope,
        confidence,
        text,
        (joined.place(candidate.start),),
    )


def _address_scope(candidate: _Candidate, before: str, alone: bool) -> str | None:
    """The address's scope, or None when it is noise (see the module's docstring)."""
    host = candidate.host
    if candidate.kind == "domain":
        return None
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    if address.version == 4:
        parts = host.split(".")
        if any(len(part) > 1 and part.startswith("0") for part in parts):
            return None
        if candidate.port is None and all(int(part) < (10 if alone else 64) for part in parts):
            return None  # version numbers: 1.2.3.4 alone, 12.2.0.1 or 2.6.32.1 in text
        if _VERSION_BEFORE.search(before):
            return None
    elif "::" not in host and not any(c in host for c in "abcdefABCDEF"):
        return None  # all-decimal groups: times and counters, not addresses
    if (
        address.is_loopback
        or address.is_unspecified
        or address.is_multicast
        or host == "255.255.255.255"
    ):
        return None
    if any(address in network for network in _DOCUMENTATION):
        return "documentation"
    if address.is_link_local:
        return "link-local"
    if address.is_private:
        return "private"
    if address.is_reserved or not address.is_global:
        return "reserved"
    return "global"


# RFC 5737 (TEST-NET-1/2/3) and RFC 3849.
_DOCUMENTATION = (
    ipaddress.ip_network("192.0.2.0/24"),
    ipaddress.ip_network("198.51.100.0/24"),
    ipaddress.ip_network("203.0.113.0/24"),
    ipaddress.ip_network("2001:db8::/32"),
)


def _domain_scope(host: str, slot: bool) -> str | None:
    labels = host.split(".")
    top = labels[-1]
    if len(labels) < 2 or len(host) > 253:
        return None
    registered = ".".join(labels[-2:])
    if registered in RESERVED_DOMAINS or (top in RESERVED_TLDS and (slot or "example" in labels)):
        return "reserved"
    if registered in NOISE_DOMAINS or top in RESERVED_TLDS:
        return None
    if top in BARE_TLDS or (slot and top in SLOT_TLDS):
        return "public"
    if slot and len(top) == 2 and top not in FILE_EXTENSIONS:
        return "public"
    return None


__all__ = ["NetworkIndicator", "find_network_indicators"]

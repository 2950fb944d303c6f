"""Firewall rules of each network namespace, read with iptables-save / ip6tables-save and
`nft -j list ruleset` when they are installed, run inside the namespace.

BPFDoor's bind shell inserts `iptables -I INPUT -s ATTACKER -j ACCEPT` and
`iptables -t nat -A PREROUTING -s ATTACKER --dport PORT -j REDIRECT --to-ports 42391..43390`
and deletes both once connected (BPFDOOR.md §1); a sweep that runs meanwhile sees them.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass

CLONE_NEWNET = 0x40000000
TOOLS = (("iptables-save", "ipv4"), ("ip6tables-save", "ipv6"))


@dataclass(frozen=True, slots=True)
class FirewallRule:
    netns: int
    family: str  # ipv4, ipv6, or the nft family
    table: str
    chain: str
    target: str  # ACCEPT, REDIRECT, DNAT, ... (lower-case nft verdicts upper-cased)
    source: str | None
    destination_port: str | None
    redirect_ports: tuple[int, int] | None  # REDIRECT --to-ports / nft redirect to
    text: str  # the rule as the tool printed it


def parse_iptables_save(text: str, netns: int, family: str) -> list[FirewallRule]:
    rules = []
    table = ""
    for raw_line in text.splitlines():
        line = raw_line.strip()
        if line.startswith("*"):
            table = line[1:]
            continue
        if not line.startswith("-A "):
            continue
        try:
            words = shlex.split(line)
        except ValueError:
            words = line.split()
        options = _options(words)
        chain = options.get("-A", "")
        ports = options.get("--to-ports")
        rules.append(
            FirewallRule(
                netns,
                family,
                table,
                chain,
                options.get("-j", ""),
                options.get("-s"),
                options.get("--dport"),
                _port_range(ports) if ports else None,
                line,
            )
        )
    return rules


def _options(words: list[str]) -> dict[str, str]:
    options: dict[str, str] = {}
    for index, word in enumerate(words[:-1]):
        if word.startswith("-") and not words[index + 1].startswith("-"):
            options.setdefault(word, words[index + 1])
    return options


def _port_range(text: str) -> tuple[int, int] | None:
    low, _, high = text.partition("-")
    try:
        return int(low), int(high or low)
    except ValueError:
        return None


def parse_nft_json(text: str, netns: int) -> list[FirewallRule]:
    """`nft -j list ruleset`: rules with their verdicts, source matches and redirects."""
    try:
        document = json.loads(text)
    except ValueError:
        return []
    items = document.get("nftables", []) if isinstance(document, dict) else []
    rules = []
    for item in items:
        rule = item.get("rule") if isinstance(item, dict) else None
        if not isinstance(rule, dict):
            continue
        target, source, port, redirect = "", None, None, None
        for expression in rule.get("expr", []) or []:
            if not isinstance(expression, dict):
                continue
            for verdict in ("accept", "drop", "reject", "redirect", "dnat", "masquerade"):
                if verdict in expression:
                    target = verdict.upper()
                    if verdict == "redirect":
                        redirect = _nft_port(expression[verdict])
            match = expression.get("match")
            if isinstance(match, dict):
                left = json.dumps(match.get("left"))
                right = match.get("right")
                if '"saddr"' in left:
                    source = json.dumps(right) if not isinstance(right, str) else right
                elif '"dport"' in left:
                    port = json.dumps(right) if not isinstance(right, (str, int)) else str(right)
        rules.append(
            FirewallRule(
                netns,
                str(rule.get("family", "")),
                str(rule.get("table", "")),
                str(rule.get("chain", "")),
                target,
                source,
                port,
                redirect,
                json.dumps(rule.get("expr", []))[:2000],
            )
        )
    return rules


def _nft_port(value: object) -> tuple[int, int] | None:
    if isinstance(value, dict):
        port = value.get("port")
        if isinstance(port, int):
            return port, port
        if isinstance(port, dict) and isinstance(port.get("range"), list):
            low, high = port["range"][:2]
            if isinstance(low, int) and isinstance(high, int):
                return low, high
    return None


def _enter(path: str) -> None:
    """preexec_fn: move the child into the network namespace at `path` before exec; the child
    exits instead when the namespace is gone (its last process ended meanwhile)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        descriptor = os.open(path, os.O_RDONLY)
        entered = libc.setns(descriptor, CLONE_NEWNET) == 0
    except Exception:  # nothing may escape a preexec_fn
        entered = False
    if not entered:
        os._exit(126)


def _run(command: list[str], namespace_path: str | None) -> str | None:
    try:
        result = subprocess.run(
            command,
            capture_output=True,
            timeout=20,
            check=False,
            preexec_fn=(lambda: _enter(namespace_path)) if namespace_path else None,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if result.returncode != 0:
        return None
    return result.stdout.decode("utf-8", "replace")


def read_rules(netns: int, namespace_path: str | None) -> tuple[list[FirewallRule], list[str]]:
    """The rules of one namespace, and notes on what could not be read."""
    rules: list[FirewallRule] = []
    notes: list[str] = []
    tools_found = False
    for tool, family in TOOLS:
        path = shutil.which(tool) or _sbin(tool)
        if path is None:
            continue
        tools_found = True
        text = _run([path], namespace_path)
        if text is None:
            notes.append(f"{tool} failed in namespace {netns}")
        else:
            rules += parse_iptables_save(text, netns, family)
    nft = shutil.which("nft") or _sbin("nft")
    if nft is not None:
        tools_found = True
        text = _run([nft, "-j", "list", "ruleset"], namespace_path)
        if text is not None:
            # With iptables-nft the iptables tables show up in nft too: keep only nft's own.
            iptables_tables = {"filter", "nat", "mangle", "raw", "security"} if rules else set()
            rules += [
                rule for rule in parse_nft_json(text, netns) if rule.table not in iptables_tables
            ]
    if not tools_found:
        notes.append("no iptables-save or nft installed: firewall rules not read")
    return rules, notes


def _sbin(tool: str) -> str | None:
    for directory in ("/usr/sbin", "/sbin"):
        candidate = f"{directory}/{tool}"
        if os.access(candidate, os.X_OK):
            return candidate
    return None


def redirects_into(rules: list[FirewallRule], low: int, high: int) -> Iterator[FirewallRule]:
    for rule in rules:
        if rule.redirect_ports and rule.redirect_ports[0] <= high and rule.redirect_ports[1] >= low:
            yield rule


__all__ = ["FirewallRule", "parse_iptables_save", "parse_nft_json", "read_rules", "redirects_into"]

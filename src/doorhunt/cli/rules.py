"""`doorhunt rules list|show|test|lint|export`: the detection rules, as data (docs/rules.md)."""

from __future__ import annotations

import argparse
import functools
import importlib
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Final

from rich.table import Table
from rich.text import Text

from doorhunt.cli.common import (
    ArgumentParser,
    HelpFormatter,
    Output,
    UsageError,
    add_common_options,
    run_command,
)
from doorhunt.cli.exitcodes import ExitCode
from doorhunt.errors import InputError
from doorhunt.i18n import Catalog
from doorhunt.report.terminal import safe_text
from doorhunt.rules.lint import LintIssue, lint_rules
from doorhunt.rules.pack import (
    ExampleResult,
    Rule,
    RuleSet,
    check_examples,
    collect_rules,
    find_rule,
    kibana_ndjson,
    load_rules,
)

DESCRIPTION = """\
doorhunt's detection rules: EQL with Elasticsearch semantics, one TOML file per rule, each with
an ATT&CK mapping, a triage note in English and Korean, and example events it must and must
not match. The shipped pack covers BPFDoor's behaviours; --rules DIR adds your own rules
(docs/rule-format.md is the file format).

  list     one line per rule: id, severity, tactic, name
  show     everything about one rule, the triage note in --lang
  test     run rules' examples through the streaming engine (exit 1 if one misbehaves)
  lint     check rule files: naming, UUIDs, severity, ATT&CK ids, ECS fields, event.action
           values, examples (exit 1 on errors)
  export   the rules as NDJSON for Kibana's detection engine (rules import)
  import-sigma  convert Sigma rules into rule files (docs/sigma.md; the `sigma` extra)

A rule is named by its id, its file name without .toml, or its name; a unique prefix of any
of them will do.

exit codes: 0 fine, 1 (test, lint) a failing example or a lint error, 2 usage error or a
rule file that does not load

examples:
  doorhunt rules list
  doorhunt rules list --lang ko --rules /etc/doorhunt/rules
  doorhunt rules show command_and_control_bpfdoor_socket_filter --lang ko
  doorhunt rules show 3cc6ff0d --json
  doorhunt rules test
  doorhunt rules lint --rules ./my-rules --no-pack
  doorhunt rules export --format kibana -o doorhunt-rules.ndjson
  curl -X POST "$KIBANA/api/detection_engine/rules/_import" -H 'kbn-xsrf: true' \\
       --form file=@doorhunt-rules.ndjson
"""

MESSAGES: Final = Catalog(
    {
        "column_id": {"en": "id", "ko": "ID"},
        "column_severity": {"en": "severity", "ko": "심각도"},
        "column_tactic": {"en": "tactic", "ko": "전술"},
        "column_name": {"en": "name", "ko": "이름"},
        "count": {"en": "{count} rules", "ko": "규칙 {count}개"},
        "low": {"en": "low", "ko": "낮음"},
        "medium": {"en": "medium", "ko": "보통"},
        "high": {"en": "high", "ko": "높음"},
        "critical": {"en": "critical", "ko": "심각"},
        "field_id": {"en": "Id", "ko": "ID"},
        "field_severity": {"en": "Severity", "ko": "심각도"},
        "field_attack": {"en": "ATT&CK", "ko": "ATT&CK"},
        "field_file": {"en": "File", "ko": "파일"},
        "field_kind": {"en": "Query kind", "ko": "쿼리 종류"},
        "field_response": {"en": "Response", "ko": "대응 조치"},
        "field_suppression": {"en": "Suppression", "ko": "중복 억제"},
        "seconds": {"en": "{count} s", "ko": "{count}초"},
        "none": {"en": "none", "ko": "없음"},
        "heading_description": {"en": "Description", "ko": "설명"},
        "heading_query": {"en": "Query", "ko": "쿼리"},
        "heading_false_positives": {"en": "False positives", "ko": "오탐 가능성"},
        "heading_references": {"en": "References", "ko": "참고 자료"},
        "heading_examples": {"en": "Examples", "ko": "예제"},
        "heading_triage": {"en": "Triage", "ko": "분석 절차"},
        "example_line": {
            "en": "{expect}: {description} ({events} events)",
            "ko": "{expect}: {description} (이벤트 {events}개)",
        },
        "match": {"en": "must match", "ko": "탐지해야 함"},
        "no_match": {"en": "must not match", "ko": "탐지하면 안 됨"},
        "pass": {"en": "PASS", "ko": "통과"},
        "fail": {"en": "FAIL", "ko": "실패"},
        "test_summary": {
            "en": "{examples} examples of {rules} rules: {passed} passed, {failed} failed",
            "ko": "규칙 {rules}개의 예제 {examples}개: 통과 {passed}, 실패 {failed}",
        },
        "lint_summary": {
            "en": "{rules} rules checked: {errors} errors, {warnings} warnings",
            "ko": "규칙 {rules}개 점검: 오류 {errors}, 경고 {warnings}",
        },
        "exported": {
            "en": "Wrote {count} rules to {path}",
            "ko": "규칙 {count}개를 {path} 에 썼습니다",
        },
    }
)

# MITRE ATT&CK tactic names as Korean analysts read them.
TACTICS_KO: Final = {
    "Reconnaissance": "정찰",
    "Resource Development": "자원 개발",
    "Initial Access": "초기 접근",
    "Execution": "실행",
    "Persistence": "지속성",
    "Privilege Escalation": "권한 상승",
    "Defense Evasion": "방어 회피",
    "Credential Access": "자격 증명 접근",
    "Discovery": "탐색",
    "Lateral Movement": "내부 확산",
    "Collection": "수집",
    "Command and Control": "명령 및 제어",
    "Exfiltration": "유출",
    "Impact": "영향",
}
SEVERITY_STYLES: Final = {
    "low": "",
    "medium": "yellow",
    "high": "bold red",
    "critical": "bold magenta",
}


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog="doorhunt rules", description=DESCRIPTION, formatter_class=HelpFormatter
    )
    commands = parser.add_subparsers(
        dest="command", metavar="COMMAND", required=True, parser_class=ArgumentParser
    )

    def command(name: str, help_text: str, examples: str) -> ArgumentParser:
        sub: ArgumentParser = commands.add_parser(
            name,
            help=help_text,
            description=f"{help_text}\n\nexamples:\n{examples}",
            formatter_class=HelpFormatter,
        )
        add_common_options(sub)
        group = sub.add_argument_group("rules")
        group.add_argument(
            "--rules",
            action="append",
            default=[],
            metavar="DIR",
            help="also load the *.toml rules in DIR, or one rule FILE (repeatable)",
        )
        group.add_argument(
            "--no-pack", action="store_true", help="leave the shipped pack out (only --rules)"
        )
        return sub

    command(
        "list",
        "one line per rule: id, severity, tactic, name",
        "  doorhunt rules list\n  doorhunt rules list --lang ko\n  doorhunt rules list --json",
    )
    show = command(
        "show",
        "everything about one rule, with its triage note in --lang",
        "  doorhunt rules show defense_evasion_fake_kernel_thread\n"
        "  doorhunt rules show 0ee39f59 --lang ko\n  doorhunt rules show 'BPFDoor socket' --json",
    )
    show.add_argument("rule", metavar="RULE", help="id, file name or name (or a unique prefix)")
    test = command(
        "test",
        "run the rules' examples through a fresh streaming engine (exit 1 if one misbehaves)",
        "  doorhunt rules test\n  doorhunt rules test execution_bind_shell_session\n"
        "  doorhunt rules test --rules ./my-rules --no-pack --json",
    )
    test.add_argument("selected", nargs="*", metavar="RULE", help="only these rules")
    command(
        "lint",
        "check every rule file and list each problem with its file and line (exit 1 on errors)",
        "  doorhunt rules lint\n  doorhunt rules lint --rules ./my-rules --no-pack",
    )
    export = command(
        "export",
        "the rules as NDJSON for Kibana's detection engine "
        "(POST /api/detection_engine/rules/_import)",
        "  doorhunt rules export --format kibana -o doorhunt-rules.ndjson\n"
        "  doorhunt rules export --format kibana --lang ko --enabled > rules-ko.ndjson\n"
        "  doorhunt rules export --format kibana command_and_control_bpfdoor_socket_filter",
    )
    export.add_argument("selected", nargs="*", metavar="RULE", help="only these rules")
    export.add_argument(
        "--format", choices=("kibana",), default="kibana", help="output format (default: kibana)"
    )
    export.add_argument(
        "-o", "--output", metavar="FILE", help="write here instead of standard output"
    )
    export.add_argument(
        "--enabled",
        action="store_true",
        help="import the rules enabled (default: disabled, as Kibana's own prebuilt rules)",
    )
    _mount_import_sigma(commands)
    return parser


def _mount_import_sigma(commands: Any) -> None:
    """`import-sigma` lives in cli/rules_sigma.py and needs the `sigma` extra (pySigma, PyYAML);
    without it the command is still listed and says what to install."""
    try:
        module = importlib.import_module("doorhunt.cli.rules_sigma")
    except ImportError as error:
        missing = error.name or "pySigma"
        sub: ArgumentParser = commands.add_parser(
            "import-sigma", help="convert Sigma rules (needs: pip install 'doorhunt[sigma]')"
        )
        sub.add_argument("arguments", nargs=argparse.REMAINDER)
        add_common_options(sub)
        sub.set_defaults(handler=functools.partial(_sigma_missing, missing))
        return
    module.add_import_sigma_parser(commands)


def _sigma_missing(missing: str, args: argparse.Namespace) -> int:
    raise UsageError(f"import-sigma needs {missing}: pip install 'doorhunt[sigma]'")


def _directories(args: argparse.Namespace) -> list[Path]:
    return [Path(directory) for directory in args.rules]


def _load(args: argparse.Namespace) -> RuleSet:
    if args.no_pack and not args.rules:
        raise UsageError("--no-pack leaves no rules: add --rules DIR")
    return load_rules(_directories(args), pack=not args.no_pack)


def _selected(rules: RuleSet, names: Sequence[str]) -> list[Rule]:
    if not names:
        return list(rules)
    chosen = [find_rule(rules, name) for name in names]
    return list(dict.fromkeys(chosen))


def cmd_list(args: argparse.Namespace, output: Output) -> int:
    rules = _load(args)
    if output.mode == "json":
        output.json_document({"rules": [rule.summary_json() for rule in rules]})
    elif output.mode == "ndjson":
        output.json_lines(rule.summary_json() for rule in rules)
    else:
        language = output.language
        table = Table(box=None, pad_edge=False, show_edge=False)
        for code in ("column_id", "column_severity", "column_tactic", "column_name"):
            table.add_column(MESSAGES.text(code, language))
        for rule in rules:
            table.add_row(
                rule.id[:8],
                Text(_severity(rule, language), style=SEVERITY_STYLES[rule.severity]),
                _tactic(rule.tactic, language),
                safe_text(rule.title(language)),
            )
        output.console.print(table)
        output.console.print(MESSAGES.text("count", language, count=len(rules)))
    return ExitCode.CLEAN


def cmd_show(args: argparse.Namespace, output: Output) -> int:
    rule = find_rule(_load(args), args.rule)
    language = output.language
    if output.structured:
        output.json_document(rule.to_json(language))
        return ExitCode.CLEAN
    console = output.console
    text = MESSAGES.text
    console.print(safe_text(rule.title(language)), style="bold")
    rows = [
        ("field_id", rule.id),
        ("field_severity", f"{_severity(rule, language)} ({rule.risk_score})"),
        ("field_attack", _attack(rule, language)),
        ("field_kind", rule.compiled.kind),
        ("field_file", f"{rule.path} ({rule.ruleset})"),
        ("field_response", ", ".join(rule.response_actions) or text("none", language)),
        ("field_suppression", text("seconds", language, count=rule.suppression_seconds)),
    ]
    width = max(len(text(code, language)) for code, _ in rows)
    for code, value in rows:
        console.print(f"{text(code, language):<{width}}  {safe_text(value)}")
    _section(output, "heading_description", [" ".join(rule.description.split())])
    _section(output, "heading_query", rule.query.strip().splitlines())
    _section(output, "heading_false_positives", [f"- {item}" for item in rule.false_positives])
    _section(output, "heading_references", [f"- {item}" for item in rule.references])
    _section(
        output,
        "heading_examples",
        [
            "- "
            + text(
                "example_line",
                language,
                expect=text(example.expect, language),
                description=example.description,
                events=len(example.events),
            )
            for example in rule.examples
        ],
    )
    _section(output, "heading_triage", rule.triage_text(language).splitlines())
    return ExitCode.CLEAN


def _section(output: Output, heading: str, lines: Sequence[str]) -> None:
    if not lines:
        return
    output.console.print()
    output.console.print(MESSAGES.text(heading, output.language), style="bold")
    for line in lines:
        output.console.print(f"  {safe_text(line)}", soft_wrap=True)


def cmd_test(args: argparse.Namespace, output: Output) -> int:
    rules = _selected(_load(args), args.selected)
    results: list[ExampleResult] = [result for rule in rules for result in check_examples(rule)]
    failed = sum(1 for result in results if not result.passed)
    language = output.language
    if output.mode == "json":
        output.json_document(
            {
                "rules": len(rules),
                "examples": len(results),
                "passed": len(results) - failed,
                "failed": failed,
                "results": [result.to_json() for result in results],
            }
        )
    elif output.mode == "ndjson":
        output.json_lines(result.to_json() for result in results)
    else:
        for result in results:
            verdict = MESSAGES.text("pass" if result.passed else "fail", language)
            style = "green" if result.passed else "bold red"
            output.console.print(
                f"{verdict:<4} {safe_text(result.rule.path.stem)} #{result.number} "
                f"{safe_text(result.example.description)}: {safe_text(result.reason)}",
                style=style,
                soft_wrap=True,
            )
        output.console.print(
            MESSAGES.text(
                "test_summary",
                language,
                examples=len(results),
                rules=len(rules),
                passed=len(results) - failed,
                failed=failed,
            )
        )
    return ExitCode.FINDINGS if failed else ExitCode.CLEAN


def cmd_lint(args: argparse.Namespace, output: Output) -> int:
    if args.no_pack and not args.rules:
        raise UsageError("--no-pack leaves no rules: add --rules DIR")
    rules, errors = collect_rules(_directories(args), pack=not args.no_pack)
    issues = lint_rules(rules, errors)
    count_errors = sum(1 for issue in issues if issue.level == "error")
    count_warnings = len(issues) - count_errors
    if output.mode == "json":
        output.json_document(
            {
                "rules": len(rules),
                "errors": count_errors,
                "warnings": count_warnings,
                "issues": [issue.to_json() for issue in issues],
            }
        )
    elif output.mode == "ndjson":
        output.json_lines(issue.to_json() for issue in issues)
    else:
        for issue in issues:
            output.console.print(_issue_line(issue), style=_issue_style(issue), soft_wrap=True)
        output.console.print(
            MESSAGES.text(
                "lint_summary",
                output.language,
                rules=len(rules),
                errors=count_errors,
                warnings=count_warnings,
            )
        )
    return ExitCode.FINDINGS if count_errors else ExitCode.CLEAN


def _issue_line(issue: LintIssue) -> str:
    return safe_text(str(issue))


def _issue_style(issue: LintIssue) -> str:
    return "bold red" if issue.level == "error" else "yellow"


def cmd_export(args: argparse.Namespace, output: Output) -> int:
    rules = _selected(_load(args), args.selected)
    language = args.lang or "en"  # Kibana's note: English unless asked, whatever the locale
    text = kibana_ndjson(rules, language=language, enabled=args.enabled)
    if args.output in (None, "-"):
        output.stream.write(text)
        return ExitCode.CLEAN
    path = Path(args.output)
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        raise InputError(error.strerror or str(error), location=str(path)) from None
    print(MESSAGES.text("exported", output.language, count=len(rules), path=path), file=sys.stderr)
    return ExitCode.CLEAN


def _severity(rule: Rule, language: str) -> str:
    return MESSAGES.text(rule.severity, language)


def _tactic(tactic: str | None, language: str) -> str:
    if tactic is None:
        return "-"
    return TACTICS_KO.get(tactic, tactic) if language == "ko" else safe_text(tactic)


def _attack(rule: Rule, language: str) -> str:
    tactics = []
    for entry in rule.threat:
        tactic = entry.get("tactic")
        if isinstance(tactic, dict):
            tactics.append(f"{_tactic(str(tactic.get('name')), language)} ({tactic.get('id')})")
    return "; ".join(tactics) + (f": {', '.join(rule.techniques)}" if rule.techniques else "")


HANDLERS: Final = {
    "list": cmd_list,
    "show": cmd_show,
    "test": cmd_test,
    "lint": cmd_lint,
    "export": cmd_export,
}


def cmd_rules(args: argparse.Namespace) -> int:
    handler: Callable[[argparse.Namespace], int] | None = getattr(args, "handler", None)
    if handler is not None:  # import-sigma
        return handler(args)
    return HANDLERS[args.command](args, Output.from_args(args))


def main(argv: Sequence[str]) -> int:
    return run_command(build_parser(), argv, cmd_rules)


__all__ = ["build_parser", "main"]

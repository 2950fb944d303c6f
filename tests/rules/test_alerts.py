"""Alerts from matches: their ECS shape, what they copy, suppression by rule and process."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from doorhunt.ecs import assert_valid, format_timestamp, get_field, new_event
from doorhunt.rules.alerts import Detector, threat_fields
from doorhunt.rules.pack import find_rule, load_rules

PACK = load_rules()
SHM = find_rule(PACK, "defense_evasion_execution_from_shared_memory")
START = datetime(2026, 1, 1, tzinfo=UTC)


def shm_exec(seconds: float, entity: str = "e1", pid: int = 4242) -> dict[str, object]:
    return new_event(
        kind="event",
        category="process",
        type="start",
        action="exec",
        timestamp=START + timedelta(seconds=seconds),
        host={"name": "web-1", "id": "h1"},
        process={
            "pid": pid,
            "entity_id": entity,
            "name": "kdmtmpflush",
            "executable": "/dev/shm/kdmtmpflush",
            "args": ["/dev/shm/kdmtmpflush"],
            "parent": {"pid": 1, "entity_id": "p1"},
            "Ext": {"ancestry": ["p1"]},
        },
        event={"id": f"ev-{entity}-{seconds}"},
    )


def test_an_alert_reads_on_its_own_and_is_valid_ecs() -> None:
    detector = Detector([SHM])
    source = shm_exec(0)
    untouched = copy.deepcopy(source)
    (alert,) = detector.process(source)
    assert source == untouched, "the source event must not change"
    assert_valid(alert, require_core=True)
    assert get_field(alert, "event.kind") == "alert"
    assert get_field(alert, "event.dataset") == "doorhunt.alerts"
    assert get_field(alert, "@timestamp") == format_timestamp(START)
    assert get_field(alert, "rule.id") == SHM.id and get_field(alert, "rule.name") == SHM.name
    assert get_field(alert, "event.risk_score") == float(SHM.risk_score)
    assert get_field(alert, "process.executable") == "/dev/shm/kdmtmpflush"
    assert get_field(alert, "host.name") == "web-1"
    assert get_field(alert, "doorhunt.alert.source_event_ids") == ["ev-e1-0"]
    assert get_field(alert, "doorhunt.alert.entity_ids") == ["e1", "p1"]
    assert get_field(alert, "doorhunt.alert.status") == "open"
    tactics = get_field(alert, "threat.tactic.id")
    assert isinstance(tactics, list) and tactics[0] == SHM.tactic_id


def test_suppression_per_rule_and_process_in_event_time() -> None:
    detector = Detector([SHM])
    assert len(detector.process(shm_exec(0))) == 1
    assert detector.process(shm_exec(10)) == []  # same process, inside the window
    assert len(detector.process(shm_exec(11, entity="e2", pid=5))) == 1  # another process
    later = SHM.suppression_seconds + 1
    assert len(detector.process(shm_exec(later))) == 1  # the window has passed
    assert (detector.stats.matches, detector.stats.alerts, detector.stats.suppressed) == (4, 3, 1)


def test_alerts_are_never_detected_on() -> None:
    detector = Detector(list(PACK))
    (alert,) = [a for a in detector.process(shm_exec(0)) if get_field(a, "rule.id") == SHM.id]
    assert detector.process(alert) == []


def test_threat_fields_flatten_kibanas_mapping() -> None:
    fields = threat_fields(
        [
            {
                "framework": "MITRE ATT&CK",
                "tactic": {"id": "TA0005", "name": "Defense Evasion", "reference": "r1"},
                "technique": [
                    {
                        "id": "T1070",
                        "name": "Indicator Removal",
                        "subtechnique": [{"id": "T1070.006", "name": "Timestomp"}],
                    }
                ],
            },
            {"tactic": {"id": "TA0011", "name": "Command and Control"}},
        ]
    )
    assert fields["framework"] == "MITRE ATT&CK"
    assert get_field(fields, "tactic.id") == ["TA0005", "TA0011"]
    assert get_field(fields, "technique.id") == ["T1070"]
    assert get_field(fields, "technique.subtechnique.id") == ["T1070.006"]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


@given(st.lists(st.dictionaries(st.text(max_size=12), json_values, max_size=5), max_size=4))
def test_threat_fields_never_raise(threats: list[dict[str, object]]) -> None:
    assert isinstance(threat_fields(threats), dict)


def test_the_sensors_alert_line_is_one_escaped_line() -> None:
    from doorhunt.sensor.detection import alert_line

    event = shm_exec(0)
    process = event["process"]
    assert isinstance(process, dict)
    process["executable"] = "/dev/shm/x\n\x1b[2Jfake ALERT line\udcff"
    (alert,) = Detector([SHM]).process(event)
    line = alert_line(alert)
    assert "\n" not in line and "\x1b" not in line
    assert line.startswith(f"ALERT {SHM.severity} ")

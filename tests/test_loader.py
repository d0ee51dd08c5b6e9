from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from caseflow.definitions.loader import load_file, load_text
from caseflow.definitions.registry import Registry, load_paths
from caseflow.errors import DefinitionError

ROOT = Path(__file__).resolve().parent.parent

GOOD = """\
workflow: small
version: 1
roles: [clerk, head]
data:
  type: object
  properties:
    amount: {type: integer}
states:
  submitted: {initial: true}
  accepted: {}
  approved: {final: true}
  rejected: {final: true}
events:
  accept: {from: submitted, to: accepted, roles: [clerk]}
  decide:
    from: accepted
    roles: [head]
    to:
      - {to: approved, when: "payload.ok == true"}
      - {to: rejected}
"""


def problems(text: str, file: str = "wf.yaml") -> list[str]:
    with pytest.raises(DefinitionError) as info:
        load_text(textwrap.dedent(text), file)
    return [str(p) for p in info.value.problems]


class TestLoad:
    def test_good_definition(self):
        """A clean file gives a frozen definition with its parts."""
        d = load_text(GOOD, "small.yaml")
        assert ("small", 1) == d.key
        assert "submitted" == d.initial_state
        assert ("approved", "rejected") == d.events["decide"].targets
        assert d.events["decide"].branches[0].when is not None
        assert d.is_final("approved")

    def test_hash_ignores_comments_and_layout(self):
        """Re-formatting or commenting a file does not change its content hash."""
        a = load_text(GOOD)
        b = load_text(
            "# a comment\n" + GOOD.replace("roles: [clerk, head]", "roles:\n  - clerk\n  - head")
        )
        assert a.content_hash == b.content_hash
        c = load_text(GOOD.replace("amount: {type: integer}", "amount: {type: number}"))
        assert a.content_hash != c.content_hash

    def test_every_mistake_reported_at_once_with_positions(self):
        """Unknown state, undeclared role, bad guard and an unknown field are all listed."""
        found = problems(
            """\
            workflow: small
            version: 1
            roles: [clerk, head]
            states:
              submitted: {initial: true}
              accepted: {}
              approved: {final: true}
              rejected: {final: true}
            events:
              accept: {from: submitted, to: acepted, roles: [clerk]}
              decide:
                from: accepted
                roles: [heads]
                to:
                  - {to: approved, when: "payload.ok == true and"}
                  - {to: rejected}
              close: {from: accepted, to: rejected, rolez: [clerk]}
            """
        )
        assert [
            "wf.yaml:10:33: event 'accept': unknown state 'acepted' (did you mean 'accepted'?)",
            "wf.yaml:13:13: event 'decide': role 'heads' is not declared in 'roles' "
            "(did you mean 'head'?)",
            "wf.yaml:15:30: event 'decide': invalid guard 'payload.ok == true and': "
            "invalid syntax (at column 23 of the guard)",
            "wf.yaml:17:41: event 'close': unknown field 'rolez' (did you mean 'roles'?)",
        ] == found

    def test_unreachable_and_dead_end_states(self):
        """A state nothing leads to, and a non-final state nothing leaves, are both errors."""
        found = problems(
            GOOD.replace("  rejected: {final: true}\n", "  rejected: {final: true}\n  orphan: {}\n")
        )
        assert [
            "wf.yaml:13:3: state 'orphan': unreachable from the initial state 'submitted'",
            "wf.yaml:13:3: state 'orphan': is not final and no event leaves it: "
            "add an event or mark it 'final: true'",
        ] == found

    def test_yaml_syntax_error(self):
        """A YAML syntax error names the file, line and column."""
        found = problems("workflow: x\nversion: 1\nstates: {a: {initial: true}\nevents: {}\n")
        assert 1 == len(found)
        assert found[0].startswith("wf.yaml:4:")
        assert "YAML error" in found[0]

    def test_duplicate_key(self):
        """A duplicated key is an error at the second occurrence, not a silent overwrite."""
        found = problems(GOOD.replace("  accepted: {}\n", "  accepted: {}\n  accepted: {}\n"))
        assert 1 == len(found)
        assert found[0].startswith("wf.yaml:11:3: YAML error")
        assert "duplicate key" in found[0]

    def test_initial_state_count(self):
        """Exactly one initial state is required."""
        found = problems(GOOD.replace("accepted: {}", "accepted: {initial: true}"))
        assert [
            "wf.yaml:10:13: state 'accepted': exactly one state must be 'initial: true' "
            "(found 'submitted', 'accepted')"
        ] == found

    def test_branches_need_a_default_last(self):
        """Conditional branches must end in one unconditional default."""
        found = problems(
            GOOD.replace("- {to: rejected}", '- {to: rejected, when: "payload.ok == false"}')
        )
        assert [
            "wf.yaml:20:9: event 'decide': the last branch must have no 'when': "
            "it is the default when no guard holds"
        ] == found

    def test_roles_rules(self):
        """Non-automatic events need roles; automatic events have none."""
        text = GOOD.replace("roles: [clerk]}", "}").replace(
            "  decide:\n",
            "  auto: {from: submitted, to: accepted, automatic: true, roles: [clerk]}\n  decide:\n",
        )
        found = problems(text)
        assert [
            "wf.yaml:14:11: event 'accept': names no roles: list who may fire it, "
            "or mark it 'automatic: true'",
            "wf.yaml:15:65: event 'auto': an automatic event is fired by the engine: it has no roles",
        ] == found

    def test_bad_header_values(self):
        """Bad version, time zone and data schema are reported with positions."""
        text = (
            GOOD.replace("version: 1", "version: zero")
            .replace("roles: [clerk, head]", "timezone: Mars/Olympus\nroles: [clerk, head]")
            .replace("amount: {type: integer}", "amount: {type: integr}")
        )
        found = problems(text)
        assert 3 == len(found)
        assert found[0].startswith("wf.yaml:2:10: version: Input should be a valid integer")
        assert "wf.yaml:3:11: timezone: unknown time zone 'Mars/Olympus'" == found[1]
        assert found[2].startswith(
            "wf.yaml:6:3: data: invalid JSON Schema at properties/amount/type"
        )

    def test_clock_references(self):
        """Clocks must name real states, events and roles and valid durations."""
        text = GOOD + textwrap.dedent(
            """\
            clocks:
              review:
                limit: 20 weekdays
                runs_in: [acepted]
                on_breach: {fire: decid}
                extension: {by: 10 workdays, roles: [boss]}
            """
        )
        found = problems(text)
        assert [
            "wf.yaml:23:12: clock 'review': invalid duration '20 weekdays': write a whole number "
            "and a unit, e.g. '5 workdays', '30 days', '1 month', '8 hours'",
            "wf.yaml:24:15: clock 'review': unknown state 'acepted' (did you mean 'accepted'?)",
            "wf.yaml:25:23: clock 'review': unknown event 'decid' (did you mean 'decide'?)",
            "wf.yaml:26:42: clock 'review': role 'boss' is not declared in 'roles'",
        ] == found

    def test_not_a_mapping(self):
        """A file that is not a mapping gets one clear problem."""
        assert [
            "wf.yaml:1:1: workflow: a workflow file must be a mapping with 'workflow', "
            "'version', ..."
        ] == problems("- just\n- a list\n")

    def test_missing_file(self, tmp_path: Path):
        """An unreadable file is a DefinitionError naming it."""
        with pytest.raises(DefinitionError, match="cannot read file"):
            load_file(tmp_path / "nope.yaml")


class TestRegistry:
    def test_shipped_workflows_load(self):
        """Every shipped workflow passes every check."""
        loaded = load_paths([ROOT / "workflows"])
        assert {"administrative_approval"} <= {d.name for d in loaded}

    def test_changed_content_under_same_version_is_refused(self):
        """Two different files claiming the same (name, version) are an error."""
        changed = load_text(
            GOOD.replace("amount: {type: integer}", "amount: {type: string}"), "b.yaml"
        )
        registry = Registry([load_text(GOOD, "a.yaml")])
        with pytest.raises(DefinitionError, match="version 1 is defined twice"):
            registry.add(changed)

    def test_latest_and_specific_versions(self):
        """get() without a version returns the newest."""
        v2 = load_text(GOOD.replace("version: 1", "version: 2"))
        registry = Registry([load_text(GOOD), v2])
        assert 2 == registry.get("small").version
        assert 1 == registry.get("small", 1).version

    def test_problems_of_several_files_together(self, tmp_path: Path):
        """Loading a folder lists the problems of every broken file."""
        (tmp_path / "a.yaml").write_text(GOOD.replace("roles: [clerk]", "roles: [clerc]"))
        (tmp_path / "b.yaml").write_text(GOOD.replace("roles: [head]", "roles: [boss]"))
        with pytest.raises(DefinitionError) as info:
            load_paths([tmp_path])
        assert ["a.yaml", "b.yaml"] == [Path(p.file).name for p in info.value.problems]

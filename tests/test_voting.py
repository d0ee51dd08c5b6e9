"""
Quorum and majority rules (民法典 art. 1259; 村民委员会组织法 arts. 22, 26).

"以上" includes the number (≥ ⌈f·n⌉); "过半数" is strictly more than half (⌊n/2⌋ + 1).
"""

# S106: ruff takes the keyword pass_of ("pass" as in 通过) for a hard-coded password.
# ruff: noqa: S106

from __future__ import annotations

import dataclasses
import json
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from caseflow.errors import CaseflowError, VoteError
from caseflow.voting import (
    REPRESENTATIVE_MEETING,
    VILLAGER_ASSEMBLY_ADULTS,
    VILLAGER_ASSEMBLY_HOUSEHOLDS,
    Counts,
    VoteRule,
    decide,
    min_present,
    min_yes,
    threshold,
)

# --- strategies (kept here: this module is the only user) ---------------------------

fractions = st.builds(
    Fraction, st.integers(min_value=1, max_value=12), st.integers(min_value=1, max_value=12)
).filter(lambda f: f <= 1)


@st.composite
def rules(draw):
    """Any valid VoteRule (a strict rule never has fraction 1)."""
    quorum = draw(fractions)
    pass_fraction = draw(fractions)
    quorum_inclusive = True if quorum == 1 else draw(st.booleans())
    pass_inclusive = True if pass_fraction == 1 else draw(st.booleans())
    return VoteRule(
        quorum=quorum,
        pass_fraction=pass_fraction,
        quorum_inclusive=quorum_inclusive,
        pass_of=draw(st.sampled_from(["present", "members", "ballots"])),
        pass_inclusive=pass_inclusive,
    )


@st.composite
def counts(draw, max_members=200):
    """Any consistent Counts."""
    members = draw(st.integers(min_value=1, max_value=max_members))
    present = draw(st.integers(min_value=0, max_value=members))
    yes = draw(st.integers(min_value=0, max_value=present))
    no = draw(st.integers(min_value=0, max_value=present - yes))
    abstain = draw(st.integers(min_value=0, max_value=present - yes - no))
    return Counts(members=members, present=present, yes=yes, no=no, abstain=abstain)


def meets(count, fraction, base, *, inclusive):
    """Independent oracle: does ``count`` meet ``fraction`` of ``base``, in Fractions?"""
    return count >= fraction * base if inclusive else count > fraction * base


# --- threshold arithmetic -------------------------------------------------------------


class TestThreshold:
    def test_two_thirds_inclusive_of_15_is_10(self):
        """三分之二以上 of 15 members: exactly 10 (2/3·15 = 10, the number itself counts)."""
        assert 10 == threshold(Fraction(2, 3), 15, inclusive=True)

    def test_two_thirds_inclusive_of_16_is_11(self):
        """三分之二以上 of 16: 2/3·16 = 10⅔, so 11."""
        assert 11 == threshold(Fraction(2, 3), 16, inclusive=True)

    def test_more_than_half_of_even_is_half_plus_one(self):
        """过半数 of 20 is 11: exactly half (10) is not more than half."""
        assert 11 == threshold(Fraction(1, 2), 20, inclusive=False)

    def test_more_than_half_of_odd(self):
        """过半数 of 21 is 11 (21/2 = 10.5)."""
        assert 11 == threshold(Fraction(1, 2), 21, inclusive=False)

    def test_strict_two_thirds_of_15(self):
        """超过三分之二 of 15 is 11: 10 is exactly 2/3, not more."""
        assert 11 == threshold(Fraction(2, 3), 15, inclusive=False)

    def test_large_numbers_are_exact(self):
        """No float rounding: 2/3 of 3·10^18 is exactly 2·10^18."""
        assert 2 * 10**18 == threshold(Fraction(2, 3), 3 * 10**18, inclusive=True)

    @given(fractions, st.integers(min_value=0, max_value=10_000), st.booleans())
    def test_threshold_is_the_smallest_count_that_meets(self, fraction, base, inclusive):
        """threshold meets the rule and one fewer does not (checked with Fraction compare)."""
        need = threshold(fraction, base, inclusive=inclusive)
        assert (True, False) == (
            meets(need, fraction, base, inclusive=inclusive),
            meets(need - 1, fraction, base, inclusive=inclusive),
        )


# --- the representative meeting (art. 26) -----------------------------------------------


class TestRepresentativeMeeting:
    def test_quorum_of_15_members_is_10(self):
        """15 members: 10 present meets 三分之二以上."""
        assert 10 == min_present(REPRESENTATIVE_MEETING, 15)

    def test_quorum_of_16_members_is_11(self):
        """16 members: 10 is not enough, 11 is."""
        assert 11 == min_present(REPRESENTATIVE_MEETING, 16)

    def test_exactly_half_of_present_does_not_pass(self):
        """30 members, 20 present, 10 yes: exactly half is not 过半数, so it fails."""
        tally = decide(REPRESENTATIVE_MEETING, Counts(members=30, present=20, yes=10, no=10))
        assert ("failed", True, False, 11) == (
            tally.outcome,
            tally.quorum_met,
            tally.passed,
            tally.min_yes,
        )

    def test_more_than_half_of_present_passes(self):
        """30 members, 20 present, 11 yes: passes."""
        tally = decide(REPRESENTATIVE_MEETING, Counts(members=30, present=20, yes=11, no=9))
        assert ("passed", True, True) == (tally.outcome, tally.quorum_met, tally.passed)

    def test_below_quorum_fails_whatever_the_yes_count(self):
        """30 members, 19 present, all 19 vote yes: no quorum (20 needed), nothing passes."""
        tally = decide(REPRESENTATIVE_MEETING, Counts(members=30, present=19, yes=19))
        assert ("no_quorum", False, False, 20) == (
            tally.outcome,
            tally.quorum_met,
            tally.passed,
            tally.min_present,
        )

    def test_abstentions_and_silent_members_count_against(self):
        """Base is those present: 11 yes of 21 present passes, 10 yes + 11 abstain does not."""
        rule = REPRESENTATIVE_MEETING
        assert (True, False) == (
            decide(rule, Counts(members=30, present=21, yes=11)).passed,
            decide(rule, Counts(members=30, present=21, yes=10, abstain=11)).passed,
        )

    def test_min_yes_depends_on_attendance(self):
        """For pass_of=present, min_yes follows attendance: 20 present → 11, 25 → 13."""
        assert (11, 13) == (
            min_yes(REPRESENTATIVE_MEETING, Counts(members=30, present=20, yes=0)),
            min_yes(REPRESENTATIVE_MEETING, Counts(members=30, present=25, yes=0)),
        )

    def test_preset_values(self):
        """The constant is 2/3 inclusive of members, more than 1/2 of those present."""
        expected = VoteRule(
            quorum=Fraction(2, 3),
            pass_fraction=Fraction(1, 2),
            quorum_of="members",
            quorum_inclusive=True,
            pass_of="present",
            pass_inclusive=False,
        )
        assert expected == REPRESENTATIVE_MEETING == VoteRule.representative_meeting()


# --- the villager assembly (art. 22) ----------------------------------------------------


class TestVillagerAssembly:
    def test_adults_quorum_is_strictly_more_than_half(self):
        """村民会议 by adults: 过半数 of 30 adults is 16; of 31 is 16."""
        assert (16, 16) == (
            min_present(VILLAGER_ASSEMBLY_ADULTS, 30),
            min_present(VILLAGER_ASSEMBLY_ADULTS, 31),
        )

    def test_adults_exactly_half_attending_is_no_quorum(self):
        """30 adults, 15 attend, all vote yes: exactly half is not 过半数, no quorum."""
        tally = decide(VILLAGER_ASSEMBLY_ADULTS, Counts(members=30, present=15, yes=15))
        assert "no_quorum" == tally.outcome

    def test_adults_pass(self):
        """30 adults, 16 attend, 9 yes of 16 passes; 8 yes (half) fails."""
        rule = VILLAGER_ASSEMBLY_ADULTS
        assert ("passed", "failed") == (
            decide(rule, Counts(members=30, present=16, yes=9, no=7)).outcome,
            decide(rule, Counts(members=30, present=16, yes=8, no=8)).outcome,
        )

    def test_households_quorum_is_two_thirds_inclusive(self):
        """村民会议 by households: 三分之二以上 of 120 households is 80, of 121 is 81."""
        assert (80, 81) == (
            min_present(VILLAGER_ASSEMBLY_HOUSEHOLDS, 120),
            min_present(VILLAGER_ASSEMBLY_HOUSEHOLDS, 121),
        )

    def test_households_vote(self):
        """120 households, 80 representatives attend, 41 yes passes; 79 attend is no quorum."""
        rule = VILLAGER_ASSEMBLY_HOUSEHOLDS
        assert ("passed", "failed", "no_quorum") == (
            decide(rule, Counts(members=120, present=80, yes=41, no=39)).outcome,
            decide(rule, Counts(members=120, present=80, yes=40, no=40)).outcome,
            decide(rule, Counts(members=120, present=79, yes=79)).outcome,
        )

    def test_presets_by_name(self):
        """VoteRule.preset returns the module constants."""
        assert (
            REPRESENTATIVE_MEETING,
            VILLAGER_ASSEMBLY_ADULTS,
            VILLAGER_ASSEMBLY_HOUSEHOLDS,
        ) == tuple(VoteRule.preset(name) for name in VoteRule.PRESETS)


# --- configured rules -------------------------------------------------------------------


class TestConfiguredRules:
    def test_strict_quorum(self):
        """A strict quorum of 2/3 (超过三分之二) of 15 needs 11, not 10."""
        rule = VoteRule(Fraction(2, 3), Fraction(1, 2), quorum_inclusive=False)
        assert ("no_quorum", 11) == (
            decide(rule, Counts(members=15, present=10, yes=10)).outcome,
            min_present(rule, 15),
        )

    def test_inclusive_quorum(self):
        """The same quorum written 三分之二以上 is met by 10 of 15."""
        rule = VoteRule(Fraction(2, 3), Fraction(1, 2), quorum_inclusive=True)
        assert "passed" == decide(rule, Counts(members=15, present=10, yes=10)).outcome

    def test_inclusive_pass_half(self):
        """An inclusive pass of 1/2 (半数以上) accepts exactly half."""
        rule = VoteRule(Fraction(2, 3), Fraction(1, 2), pass_inclusive=True)
        assert "passed" == decide(rule, Counts(members=30, present=20, yes=10, no=10)).outcome

    def test_pass_of_members(self):
        """Pass of 2/3 of all members (e.g. 三分之二以上村民代表同意): 20 of 30 needed."""
        rule = VoteRule(Fraction(2, 3), Fraction(2, 3), pass_of="members", pass_inclusive=True)
        tally = decide(rule, Counts(members=30, present=25, yes=19, no=6))
        assert ("failed", 20, 30) == (tally.outcome, tally.min_yes, tally.base)
        assert "passed" == decide(rule, Counts(members=30, present=25, yes=20, no=5)).outcome

    def test_pass_of_ballots_counts_abstentions(self):
        """pass_of=ballots: base is yes + no + abstain; present members without a ballot are not."""
        rule = VoteRule(Fraction(2, 3), Fraction(1, 2), pass_of="ballots")
        tally = decide(rule, Counts(members=30, present=24, yes=8, no=5, abstain=2))
        assert ("passed", 15, 8) == (tally.outcome, tally.base, tally.min_yes)
        assert (
            "failed" == decide(rule, Counts(members=30, present=24, yes=8, no=5, abstain=3)).outcome
        )

    def test_no_ballots_never_passes(self):
        """Even an inclusive rule needs at least one yes vote when no ballot was cast."""
        rule = VoteRule(Fraction(1, 2), Fraction(1, 2), pass_of="ballots", pass_inclusive=True)
        tally = decide(rule, Counts(members=10, present=10, yes=0))
        assert ("failed", 1) == (tally.outcome, tally.min_yes)

    def test_unanimity(self):
        """An inclusive rule of 1/1 (全体) needs every member present and voting yes."""
        rule = VoteRule(Fraction(1), Fraction(1), pass_inclusive=True)
        assert ("passed", "failed", "no_quorum") == (
            decide(rule, Counts(members=5, present=5, yes=5)).outcome,
            decide(rule, Counts(members=5, present=5, yes=4, abstain=1)).outcome,
            decide(rule, Counts(members=5, present=4, yes=4)).outcome,
        )

    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [
            (
                {"quorum": Fraction(0), "pass_fraction": Fraction(1, 2)},
                "quorum must be more than 0",
            ),
            ({"quorum": Fraction(4, 3), "pass_fraction": Fraction(1, 2)}, "at most 1"),
            ({"quorum": Fraction(2, 3), "pass_fraction": Fraction(-1, 2)}, "pass must be more"),
            (
                {"quorum": Fraction(2, 3), "pass_fraction": Fraction(1), "pass_inclusive": False},
                "can never be met",
            ),
            (
                {"quorum": Fraction(1), "pass_fraction": Fraction(1, 2), "quorum_inclusive": False},
                "can never be met",
            ),
            (
                {"quorum": Fraction(2, 3), "pass_fraction": Fraction(1, 2), "pass_of": "all"},
                "pass_of must be one of present, members, ballots",
            ),
            (
                {"quorum": Fraction(2, 3), "pass_fraction": Fraction(1, 2), "quorum_of": "present"},
                "quorum_of must be one of members",
            ),
        ],
    )
    def test_invalid_rules_are_refused(self, kwargs, message):
        """Out-of-range fractions, impossible strict rules and unknown bases raise ValueError."""
        with pytest.raises(ValueError, match=message):
            VoteRule(**kwargs)

    def test_float_fraction_is_a_type_error(self):
        """Floats are not exact: VoteRule wants a Fraction."""
        with pytest.raises(TypeError, match=r"must be a fractions\.Fraction"):
            VoteRule(0.67, Fraction(1, 2))  # type: ignore[arg-type]

    def test_rule_is_frozen(self):
        """A rule cannot be changed after it is built."""
        with pytest.raises(dataclasses.FrozenInstanceError):
            REPRESENTATIVE_MEETING.quorum = Fraction(1, 2)  # type: ignore[misc]


# --- counts validation ------------------------------------------------------------------


class TestCounts:
    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [
            ({"members": 30, "present": 31, "yes": 0}, r"present=31 > members=30"),
            (
                {"members": 30, "present": 20, "yes": 11, "no": 8, "abstain": 2},
                r"yes=11 \+ no=8 \+ abstain=2 = 21 > present=20",
            ),
            ({"members": 30, "present": 20, "yes": -1}, r"yes cannot be negative, got -1"),
            ({"members": -3, "present": 0, "yes": 0}, r"members cannot be negative, got -3"),
            ({"members": 30, "present": -1, "yes": 0}, r"present cannot be negative"),
            ({"members": 30, "present": 20, "yes": 1, "no": -1}, r"no cannot be negative"),
            ({"members": 30, "present": 20, "yes": 1, "abstain": -2}, r"abstain cannot be"),
            ({"members": 0, "present": 0, "yes": 0}, r"members=0"),
            ({"members": 30, "present": "20", "yes": 0}, r"present must be a whole number"),
            ({"members": 30, "present": 20, "yes": True}, r"yes must be a whole number"),
        ],
    )
    def test_inconsistent_counts_raise_vote_error(self, kwargs, message):
        """Inconsistent counts raise VoteError naming the numbers."""
        with pytest.raises(VoteError, match=message):
            Counts(**kwargs)

    def test_vote_error_is_a_caseflow_error(self):
        """Hosts catching CaseflowError also catch bad counts."""
        with pytest.raises(CaseflowError):
            Counts(members=10, present=11, yes=0)

    def test_min_present_refuses_empty_electorate(self):
        """min_present with no members raises VoteError."""
        with pytest.raises(VoteError, match="members=0"):
            min_present(REPRESENTATIVE_MEETING, 0)

    def test_ballots(self):
        """ballots is yes + no + abstain."""
        assert 17 == Counts(members=30, present=20, yes=10, no=5, abstain=2).ballots

    def test_not_everyone_present_must_vote(self):
        """Fewer ballots than people present is allowed (some cast none)."""
        assert 3 == Counts(members=30, present=20, yes=3).ballots


# --- parsing the YAML form --------------------------------------------------------------


class TestParse:
    def test_full_rule(self):
        """The documented YAML form builds the representative-meeting rule."""
        data = {
            "quorum": "2/3",
            "quorum_inclusive": True,
            "pass": "1/2",
            "pass_of": "present",
            "pass_inclusive": False,
        }
        assert REPRESENTATIVE_MEETING == VoteRule.parse(data)

    def test_defaults(self):
        """Only quorum and pass are required: 以上 quorum, 过半数 of those present."""
        assert REPRESENTATIVE_MEETING == VoteRule.parse({"quorum": "2/3", "pass": "1/2"})

    @pytest.mark.parametrize(
        ("name", "expected"),
        [
            ("representative_meeting", REPRESENTATIVE_MEETING),
            ("villager_assembly_adults", VILLAGER_ASSEMBLY_ADULTS),
            ("villager_assembly_households", VILLAGER_ASSEMBLY_HOUSEHOLDS),
        ],
    )
    def test_presets(self, name, expected):
        """{preset: name} gives the statutory rule."""
        assert expected == VoteRule.parse({"preset": name})

    def test_preset_with_override(self):
        """A preset's keys may be overridden, e.g. a 2/3-of-members majority."""
        expected = VoteRule(Fraction(2, 3), Fraction(2, 3), pass_of="members", pass_inclusive=True)
        assert expected == VoteRule.parse(
            {
                "preset": "representative_meeting",
                "pass": "2/3",
                "pass_of": "members",
                "pass_inclusive": True,
            }
        )

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("2/3", Fraction(2, 3)),
            (" 2/3 ", Fraction(2, 3)),
            ("0.5", Fraction(1, 2)),
            (1, Fraction(1)),
            ("1", Fraction(1)),
            (Fraction(3, 4), Fraction(3, 4)),
        ],
    )
    def test_fraction_spellings(self, value, expected):
        """Fractions may be written "2/3", "0.5", 1, or given as Fraction."""
        assert expected == VoteRule.parse({"quorum": value, "pass": "1/2"}).quorum

    def test_yaml_document(self):
        """A rule read by ruamel.yaml (round-trip mode, as the loader reads) parses."""
        from ruamel.yaml import YAML

        data = YAML(typ="rt").load("vote: {quorum: 2/3, pass: 1/2, pass_of: present}\n")
        assert REPRESENTATIVE_MEETING == VoteRule.parse(data["vote"])

    @pytest.mark.parametrize(
        ("data", "message"),
        [
            (["2/3", "1/2"], "must be a mapping, got list"),
            ("representative_meeting", "must be a mapping, got str"),
            ({"quorum": "2/3"}, "needs pass"),
            ({}, "needs quorum and pass"),
            ({"quorum": "2/3", "pass": "1/2", "majority": "1/2"}, "unknown vote rule key majority"),
            ({"preset": "village_meeting"}, "unknown vote rule preset 'village_meeting'"),
            ({"preset": 3}, "preset must be a name"),
            ({"quorum": 0.67, "pass": "1/2"}, 'written exactly, as a string like "2/3"'),
            ({"quorum": True, "pass": "1/2"}, "written exactly"),
            ({"quorum": "two thirds", "pass": "1/2"}, "quorum must be a fraction"),
            ({"quorum": "1/0", "pass": "1/2"}, "quorum must be a fraction"),
            ({"quorum": None, "pass": "1/2"}, "quorum must be a fraction"),
            ({"quorum": "3/2", "pass": "1/2"}, "quorum must be more than 0 and at most 1"),
            ({"quorum": "0", "pass": "1/2"}, "quorum must be more than 0"),
            ({"quorum": "2/3", "pass": "-1/2"}, "pass must be more than 0"),
            ({"quorum": "2/3", "pass": "1/2", "pass_of": "voters"}, "pass_of must be one of"),
            ({"quorum": "2/3", "pass": "1/2", "pass_of": 1}, "pass_of must be one of"),
            ({"quorum": "2/3", "pass": "1/2", "quorum_of": "present"}, "quorum_of must be one"),
            ({"quorum": "2/3", "pass": "1/2", "pass_inclusive": "no"}, "true or false"),
            ({"quorum": "2/3", "pass": "1/2", "quorum_inclusive": 1}, "true or false"),
            ({"quorum": "2/3", "pass": "1", "pass_inclusive": False}, "can never be met"),
        ],
    )
    def test_bad_input_raises_value_error(self, data, message):
        """Bad input raises ValueError saying what is wrong."""
        with pytest.raises(ValueError, match=message):
            VoteRule.parse(data)

    @given(rules())
    def test_round_trip(self, rule):
        """parse(rule.to_dict()) gives the rule back."""
        assert rule == VoteRule.parse(rule.to_dict())


# --- properties -------------------------------------------------------------------------


class TestProperties:
    @given(rules(), counts())
    def test_quorum_met_iff_present_reaches_min_present(self, rule, c):
        """quorum_met is exactly present ≥ min_present, and min_present meets the quorum."""
        tally = decide(rule, c)
        assert (tally.quorum_met, True) == (
            c.present >= tally.min_present,
            meets(tally.min_present, rule.quorum, c.members, inclusive=rule.quorum_inclusive),
        )

    @given(rules(), counts())
    def test_passed_iff_quorum_and_min_yes(self, rule, c):
        """passed is exactly quorum_met and yes ≥ min_yes; below quorum nothing passes."""
        tally = decide(rule, c)
        assert tally.passed == (tally.quorum_met and c.yes >= tally.min_yes)
        assert tally.passed <= tally.quorum_met

    @given(rules(), counts())
    def test_min_yes_is_the_smallest_passing_count(self, rule, c):
        """min_yes (≥ 1) meets the pass rule and nothing smaller and positive does."""
        tally = decide(rule, c)
        base = {"present": c.present, "members": c.members, "ballots": c.ballots}[rule.pass_of]
        fraction, inclusive = rule.pass_fraction, rule.pass_inclusive
        assert (True, True) == (
            tally.min_yes >= 1 and meets(tally.min_yes, fraction, base, inclusive=inclusive),
            tally.min_yes == 1 or not meets(tally.min_yes - 1, fraction, base, inclusive=inclusive),
        )

    @given(rules(), counts())
    def test_outcome_matches_flags(self, rule, c):
        """outcome agrees with quorum_met and passed."""
        tally = decide(rule, c)
        expected = "passed" if tally.passed else "failed" if tally.quorum_met else "no_quorum"
        assert expected == tally.outcome

    @given(rules(), counts())
    def test_turning_a_no_into_a_yes_never_hurts(self, rule, c):
        """Monotonic in yes: moving one ballot from no (or abstain) to yes keeps a pass."""
        if c.no:
            moved = dataclasses.replace(c, yes=c.yes + 1, no=c.no - 1)
        elif c.abstain:
            moved = dataclasses.replace(c, yes=c.yes + 1, abstain=c.abstain - 1)
        else:
            return
        assert decide(rule, c).passed <= decide(rule, moved).passed

    @given(rules(), counts())
    def test_an_extra_yes_ballot_never_hurts(self, rule, c):
        """Monotonic in yes: one more yes ballot (from someone present) keeps a pass."""
        if c.ballots == c.present:
            return
        more = dataclasses.replace(c, yes=c.yes + 1)
        assert decide(rule, c).passed <= decide(rule, more).passed

    @given(rules(), counts())
    def test_quorum_is_achievable(self, rule, c):
        """The quorum never asks for more people than there are members."""
        assert 1 <= min_present(rule, c.members) <= c.members

    @given(rules(), counts())
    def test_tally_to_dict_is_json(self, rule, c):
        """The tally serialises to JSON for the event history, with the rule re-parseable."""
        data = json.loads(json.dumps(decide(rule, c).to_dict()))
        assert (rule, c) == (VoteRule.parse(data["rule"]), Counts(**data["counts"]))

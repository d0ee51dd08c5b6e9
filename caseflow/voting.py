"""
Quorum and majority rules for village votes, and the tally that applies them.

Pure: no I/O, no clock, no floats. Every threshold is computed with integers and
:class:`~fractions.Fraction`, so "two thirds of 15" is exactly 10, never 9.999….

The law this module encodes:

- 民法典 art. 1259: "以上" and "以下" include the number itself; "超过" does not.
  "过半数" (超过半数) is therefore *strictly more than* half.
- 村民委员会组织法 art. 26 (村民代表会议): the meeting may be held only when
  "三分之二以上的组成人员参加" (at least 2/3 of its members attend), and its decisions
  need "到会人员的过半数同意" (more than half of those present).
- 村民委员会组织法 art. 22 (村民会议): "本村十八周岁以上村民的过半数，或者本村三分之二以上的户的
  代表参加" (more than half of the adult villagers, or at least 2/3 of the households'
  representatives, attend), and "所作决定应当经到会人员的过半数通过" (more than half of those
  present).

Threshold semantics, for a fraction ``f`` of a base ``n``:

- inclusive, "at least f·n" (以上): the smallest count is ``ceil(f·n)``;
- strict, "more than f·n" (过半数, 超过): the smallest count is ``floor(f·n) + 1``.

Rule decisions (documented once here, relied on by the engine):

- The quorum is always counted against the electorate (``quorum_of="members"``).
- Below quorum nothing passes, whatever the yes count: the outcome is ``"no_quorum"``.
- ``pass_of="ballots"`` counts every ballot cast, *abstentions included*
  (``yes + no + abstain``): a 弃权 ballot is a valid ballot that is neither for nor
  against. Those present who cast no ballot, or whose ballot was spoiled, are not
  counted. Use ``pass_of="present"`` (the statutory base) to count them against.
- A decision is never adopted without at least one yes vote: ``min_yes`` is at least 1
  even when the base is 0 (e.g. nobody cast a ballot).
- Fractions must lie in (0, 1]; "more than all of them" (a strict rule with fraction 1)
  can never be met and is rejected when the rule is built.

.. versionadded:: 0.1
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, ClassVar, Literal, cast, get_args

from caseflow.errors import VoteError

__all__ = [
    "REPRESENTATIVE_MEETING",
    "VILLAGER_ASSEMBLY_ADULTS",
    "VILLAGER_ASSEMBLY_HOUSEHOLDS",
    "Counts",
    "Outcome",
    "PassBase",
    "QuorumBase",
    "Tally",
    "VoteRule",
    "decide",
    "min_present",
    "min_yes",
    "threshold",
]

QuorumBase = Literal["members"]
"""What the quorum is counted against: the electorate (组成人员 / 村民 / 户)."""

PassBase = Literal["present", "members", "ballots"]
"""What the pass fraction is counted against: those present, all members, or ballots cast."""

Outcome = Literal["passed", "failed", "no_quorum"]
"""The result of a vote."""

_QUORUM_BASES: tuple[str, ...] = get_args(QuorumBase)
_PASS_BASES: tuple[str, ...] = get_args(PassBase)
_RULE_KEYS = ("quorum", "quorum_of", "quorum_inclusive", "pass", "pass_of", "pass_inclusive")


def threshold(fraction: Fraction, base: int, *, inclusive: bool) -> int:
    """
    The smallest whole count that meets ``fraction`` of ``base``.

    Inclusive ("以上", at least f·n) gives ``ceil(f·n)``; strict ("过半数"/"超过", more than
    f·n) gives ``floor(f·n) + 1`` (民法典 art. 1259). Exact integer arithmetic.

    Args:
        fraction: the share required, e.g. ``Fraction(2, 3)``.
        base: the count the share is taken of (members, present, or ballots).
        inclusive: ``True`` for "at least", ``False`` for "strictly more than".

    Returns:
        The minimum count; e.g. 2/3 inclusive of 15 is 10, of 16 is 11; more than 1/2
        of 20 is 11.

    .. versionadded:: 0.1
    """
    product = fraction * base
    if inclusive:
        return -(-product.numerator // product.denominator)
    return product.numerator // product.denominator + 1


def _check_fraction(name: str, value: object, *, inclusive: bool) -> None:
    if isinstance(value, bool) or not isinstance(value, Fraction):
        msg = f"{name} must be a fractions.Fraction, got {value!r}"
        raise TypeError(msg)
    if not 0 < value <= 1:
        msg = f"{name} must be more than 0 and at most 1, got {value}"
        raise ValueError(msg)
    if value == 1 and not inclusive:
        msg = f"{name} 'more than 1/1' can never be met; use an inclusive rule for 'all of them'"
        raise ValueError(msg)


def _fraction_text(value: Fraction) -> str:
    return f"{value.numerator}/{value.denominator}"


@dataclass(frozen=True, slots=True)
class VoteRule:
    """
    When a vote may be held (quorum) and when a proposal is adopted (pass).

    The quorum is met when attendance reaches ``quorum`` of the members (at least, or
    strictly more than, per ``quorum_inclusive``). The proposal passes when the yes
    votes reach ``pass_fraction`` of the ``pass_of`` base (at least, or strictly more
    than, per ``pass_inclusive``). The defaults are the statutory pattern of
    村民委员会组织法 arts. 22 and 26: a quorum of "以上" (inclusive) and a pass by
    "到会人员的过半数" (strictly more than half of those present).

    Use :meth:`parse` for the YAML form and the module constants for the statutory
    rules.

    Raises:
        ValueError: a fraction is outside (0, 1], a strict rule has fraction 1, or a base
            is not one of the allowed names.
        TypeError: a fraction is not a :class:`~fractions.Fraction`.

    .. versionadded:: 0.1
    """

    quorum: Fraction
    pass_fraction: Fraction
    quorum_of: QuorumBase = "members"
    quorum_inclusive: bool = True
    pass_of: PassBase = "present"  # noqa: S105 - "pass" as in 通过, not a password
    pass_inclusive: bool = False

    PRESETS: ClassVar[tuple[str, ...]] = (
        "representative_meeting",
        "villager_assembly_adults",
        "villager_assembly_households",
    )

    def __post_init__(self) -> None:
        _check_fraction("quorum", self.quorum, inclusive=self.quorum_inclusive)
        _check_fraction("pass", self.pass_fraction, inclusive=self.pass_inclusive)
        if self.quorum_of not in _QUORUM_BASES:
            msg = f"quorum_of must be one of {', '.join(_QUORUM_BASES)}, got {self.quorum_of!r}"
            raise ValueError(msg)
        if self.pass_of not in _PASS_BASES:
            msg = f"pass_of must be one of {', '.join(_PASS_BASES)}, got {self.pass_of!r}"
            raise ValueError(msg)

    @classmethod
    def representative_meeting(cls) -> VoteRule:
        """
        村民代表会议 (村民委员会组织法 art. 26).

        "有三分之二以上的组成人员参加方可召开，所作决定应当经到会人员的过半数同意": at least 2/3
        of the members attend; more than half of those present agree.
        """
        return cls(Fraction(2, 3), Fraction(1, 2), quorum_inclusive=True, pass_inclusive=False)

    @classmethod
    def villager_assembly_adults(cls) -> VoteRule:
        """
        村民会议 counted by adult villagers (村民委员会组织法 art. 22).

        "本村十八周岁以上村民的过半数…参加，…经到会人员的过半数通过": more than half of the
        villagers aged 18 or over attend (members = adult villagers); more than half of
        those present agree.
        """
        return cls(Fraction(1, 2), Fraction(1, 2), quorum_inclusive=False, pass_inclusive=False)

    @classmethod
    def villager_assembly_households(cls) -> VoteRule:
        """
        村民会议 counted by households (村民委员会组织法 art. 22).

        "本村三分之二以上的户的代表参加，…经到会人员的过半数通过": representatives of at least 2/3
        of the households attend (members = households); more than half of those present
        agree.
        """
        return cls(Fraction(2, 3), Fraction(1, 2), quorum_inclusive=True, pass_inclusive=False)

    @classmethod
    def preset(cls, name: str) -> VoteRule:
        """
        The statutory rule called ``name`` (one of :attr:`PRESETS`).

        Raises:
            ValueError: ``name`` is not a known preset; the message lists them.
        """
        factories = {
            "representative_meeting": cls.representative_meeting,
            "villager_assembly_adults": cls.villager_assembly_adults,
            "villager_assembly_households": cls.villager_assembly_households,
        }
        factory = factories.get(name)
        if factory is None:
            msg = f"unknown vote rule preset {name!r}; known presets: {', '.join(cls.PRESETS)}"
            raise ValueError(msg)
        return factory()

    @classmethod
    def parse(cls, mapping: object) -> VoteRule:
        """
        Build a rule from its YAML form.

        Either a full rule::

            {quorum: "2/3", quorum_inclusive: true, pass: "1/2", pass_of: present,
             pass_inclusive: false}

        or a preset, optionally with some keys overridden::

            {preset: representative_meeting}
            {preset: representative_meeting, pass: "2/3", pass_inclusive: true}

        Keys: ``quorum`` and ``pass`` (required without a preset; a string ``"2/3"``,
        ``"0.5"``, or the integer ``1``), ``quorum_of`` (``members``),
        ``quorum_inclusive`` (default ``true``: 以上), ``pass_of`` (``present``,
        ``members`` or ``ballots``; default ``present``), ``pass_inclusive`` (default
        ``false``: 过半数). Floats such as ``0.67`` are refused: they are not two thirds.

        Raises:
            ValueError: the input is not a mapping, has unknown or missing keys, or a
                value is of the wrong kind or out of range; the message says which.
        """
        if not isinstance(mapping, Mapping):
            msg = f"a vote rule must be a mapping, got {type(mapping).__name__}: {mapping!r}"
            raise ValueError(msg)  # noqa: TRY004 - the YAML loader reports ValueErrors
        unknown = sorted(str(k) for k in mapping if k not in (*_RULE_KEYS, "preset"))
        if unknown:
            msg = (
                f"unknown vote rule key{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}; "
                f"allowed keys: preset, {', '.join(_RULE_KEYS)}"
            )
            raise ValueError(msg)
        values: dict[str, Any]
        if "preset" in mapping:
            name = mapping["preset"]
            if not isinstance(name, str):
                msg = f"vote rule preset must be a name, got {name!r}"
                raise ValueError(msg)
            values = cls.preset(name).to_dict()
        else:
            missing = [k for k in ("quorum", "pass") if k not in mapping]
            if missing:
                msg = (
                    f'vote rule needs {" and ".join(missing)} (e.g. quorum: "2/3", '
                    'pass: "1/2"), or a preset: ' + ", ".join(cls.PRESETS)
                )
                raise ValueError(msg)
            values = {}
        values.update({k: v for k, v in mapping.items() if k != "preset"})
        return cls(
            quorum=_parse_fraction("quorum", values["quorum"]),
            pass_fraction=_parse_fraction("pass", values["pass"]),
            quorum_of=cast("QuorumBase", _parse_name("quorum_of", values, _QUORUM_BASES)),
            quorum_inclusive=_parse_flag("quorum_inclusive", values, default=True),
            pass_of=cast("PassBase", _parse_name("pass_of", values, _PASS_BASES)),
            pass_inclusive=_parse_flag("pass_inclusive", values, default=False),
        )

    def to_dict(self) -> dict[str, str | bool]:
        """The YAML/JSON form, accepted back by :meth:`parse` (fractions as ``"2/3"``)."""
        return {
            "quorum": _fraction_text(self.quorum),
            "quorum_of": self.quorum_of,
            "quorum_inclusive": self.quorum_inclusive,
            "pass": _fraction_text(self.pass_fraction),
            "pass_of": self.pass_of,
            "pass_inclusive": self.pass_inclusive,
        }


def _parse_name(key: str, values: Mapping[str, object], allowed: tuple[str, ...]) -> str:
    value = values.get(key, allowed[0])
    if not isinstance(value, str) or value not in allowed:
        msg = f"vote rule {key} must be one of {', '.join(allowed)}, got {value!r}"
        raise ValueError(msg)
    return str(value)  # a plain str, not a YAML scalar subclass


def _parse_flag(key: str, values: Mapping[str, object], *, default: bool) -> bool:
    value = values.get(key, default)
    if not isinstance(value, bool):
        msg = f"vote rule {key} must be true or false, got {value!r}"
        raise ValueError(msg)  # noqa: TRY004 - the YAML loader reports ValueErrors
    return value


def _parse_fraction(name: str, value: object) -> Fraction:
    # The YAML loader reports ValueErrors, so wrong kinds are ValueErrors too (TRY004).
    if isinstance(value, bool | float):
        msg = (
            f'vote rule {name} must be written exactly, as a string like "2/3" or "1/2", '
            f"got {value!r}"
        )
        raise ValueError(msg)  # noqa: TRY004
    if isinstance(value, Fraction | int):
        result = Fraction(value)
    elif isinstance(value, str):
        try:
            result = Fraction(value.strip())
        except (ValueError, ZeroDivisionError):
            msg = f'vote rule {name} must be a fraction like "2/3" or "1/2", got {value!r}'
            raise ValueError(msg) from None
    else:
        msg = f'vote rule {name} must be a fraction like "2/3" or "1/2", got {value!r}'
        raise ValueError(msg)  # noqa: TRY004
    if not 0 < result <= 1:
        msg = f"vote rule {name} must be more than 0 and at most 1, got {value!r}"
        raise ValueError(msg)
    return result


REPRESENTATIVE_MEETING = VoteRule.representative_meeting()
"""村民代表会议 (art. 26): ≥ 2/3 of members attend; > 1/2 of those present agree."""

VILLAGER_ASSEMBLY_ADULTS = VoteRule.villager_assembly_adults()
"""村民会议 (art. 22): > 1/2 of adult villagers attend; > 1/2 of those present agree."""

VILLAGER_ASSEMBLY_HOUSEHOLDS = VoteRule.villager_assembly_households()
"""村民会议 (art. 22): ≥ 2/3 of households' representatives attend; > 1/2 of present agree."""


@dataclass(frozen=True, slots=True)
class Counts:
    """
    The numbers of a vote: the electorate, attendance and the ballots.

    ``members`` is the electorate snapshot (组成人员, adult villagers, or households);
    ``present`` is attendance; ``yes``/``no``/``abstain`` are the ballots cast
    (赞成/反对/弃权). Present members who cast no valid ballot are the difference
    ``present - (yes + no + abstain)``.

    Raises:
        VoteError: a count is not a whole number or is negative, ``members`` is 0,
            ``present > members``, or ``yes + no + abstain > present``; the message names
            the numbers.

    .. versionadded:: 0.1
    """

    members: int
    present: int
    yes: int
    no: int = 0
    abstain: int = 0

    def __post_init__(self) -> None:
        for name in ("members", "present", "yes", "no", "abstain"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                msg = f"vote count {name} must be a whole number, got {value!r}"
                raise VoteError(msg)
            if value < 0:
                msg = f"vote count {name} cannot be negative, got {value}"
                raise VoteError(msg)
        if self.members == 0:
            msg = "a vote needs at least one member in its electorate, got members=0"
            raise VoteError(msg)
        if self.present > self.members:
            msg = f"more present than members: present={self.present} > members={self.members}"
            raise VoteError(msg)
        if self.ballots > self.present:
            msg = (
                f"more ballots than people present: yes={self.yes} + no={self.no} + "
                f"abstain={self.abstain} = {self.ballots} > present={self.present}"
            )
            raise VoteError(msg)

    @property
    def ballots(self) -> int:
        """Ballots cast: ``yes + no + abstain`` (abstentions are ballots)."""
        return self.yes + self.no + self.abstain

    def to_dict(self) -> dict[str, int]:
        """The JSON form, for the event history."""
        return {
            "members": self.members,
            "present": self.present,
            "yes": self.yes,
            "no": self.no,
            "abstain": self.abstain,
        }


@dataclass(frozen=True, slots=True)
class Tally:
    """
    The result of applying a :class:`VoteRule` to :class:`Counts`.

    Attributes:
        quorum_met: attendance reached the quorum (``present >= min_present``).
        passed: the quorum was met *and* ``yes >= min_yes``.
        min_present: the smallest attendance that meets the quorum for these members.
        min_yes: the smallest yes count that passes, given this vote's base (for
            ``pass_of="present"`` it depends on attendance; at least 1).
        base: the count the pass fraction was taken of (present, members or ballots).
        outcome: ``"passed"``, ``"failed"`` (quorum met, too few yes votes) or
            ``"no_quorum"``.

    .. versionadded:: 0.1
    """

    quorum_met: bool
    passed: bool
    min_present: int
    min_yes: int
    base: int
    outcome: Outcome
    counts: Counts = field(repr=False)
    rule: VoteRule = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form, for the event history and published results (公开)."""
        return {
            "outcome": self.outcome,
            "quorum_met": self.quorum_met,
            "passed": self.passed,
            "min_present": self.min_present,
            "min_yes": self.min_yes,
            "base": self.base,
            "counts": self.counts.to_dict(),
            "rule": self.rule.to_dict(),
        }


def min_present(rule: VoteRule, members: int) -> int:
    """
    The smallest attendance that meets ``rule``'s quorum for ``members`` members.

    E.g. 村民代表会议 (≥ 2/3): 15 members → 10, 16 → 11; 村民会议 by adults (> 1/2):
    30 → 16.

    Raises:
        VoteError: ``members`` is not a positive whole number.

    .. versionadded:: 0.1
    """
    if isinstance(members, bool) or not isinstance(members, int) or members < 1:
        msg = f"a vote needs at least one member in its electorate, got members={members!r}"
        raise VoteError(msg)
    return threshold(rule.quorum, members, inclusive=rule.quorum_inclusive)


def _base(rule: VoteRule, counts: Counts) -> int:
    match rule.pass_of:
        case "present":
            return counts.present
        case "members":
            return counts.members
        case "ballots":
            return counts.ballots


def min_yes(rule: VoteRule, counts: Counts) -> int:
    """
    The smallest yes count that passes under ``rule`` with these ``counts``.

    Taken of the rule's base: ``present`` (e.g. 20 present, more than half → 11),
    ``members``, or ``ballots`` (``yes + no + abstain``). Never less than 1. Does not
    consider the quorum: see :func:`decide`.

    .. versionadded:: 0.1
    """
    return max(1, threshold(rule.pass_fraction, _base(rule, counts), inclusive=rule.pass_inclusive))


def decide(rule: VoteRule, counts: Counts) -> Tally:
    """
    Apply ``rule`` to ``counts``: was the quorum met, and did the proposal pass?

    Below quorum nothing passes, whatever the yes count (村民委员会组织法 art. 26: the
    meeting "方可召开" only with its quorum). E.g. under :data:`REPRESENTATIVE_MEETING`
    with 30 members and 20 present, 10 yes fails (exactly half is not 过半数) and 11 yes
    passes; with 19 present nothing passes.

    Raises:
        VoteError: the counts are inconsistent (raised when :class:`Counts` is built).

    .. versionadded:: 0.1
    """
    need_present = min_present(rule, counts.members)
    need_yes = min_yes(rule, counts)
    quorum_met = counts.present >= need_present
    passed = quorum_met and counts.yes >= need_yes
    outcome: Outcome = "passed" if passed else "failed" if quorum_met else "no_quorum"
    return Tally(
        quorum_met=quorum_met,
        passed=passed,
        min_present=need_present,
        min_yes=need_yes,
        base=_base(rule, counts),
        outcome=outcome,
        counts=counts,
        rule=rule,
    )

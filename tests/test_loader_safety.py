"""The loader on hostile or mistyped files: bounded, fast, and every problem positioned."""

from __future__ import annotations

import time

import pytest

from caseflow.definitions.loader import load_bytes, load_file, load_text
from caseflow.errors import DefinitionError

SMALL = """\
workflow: small
version: 1
roles: [clerk, head]
data:
  type: object
  properties:
    area_sqm: {type: number}
states:
  submitted: {initial: true}
  done: {final: true}
events:
  finish:
    from: submitted
    roles: [clerk]
    to:
      - {to: done, when: "data.area_sqm <= 150"}
      - {to: done}
"""
#: 342 bytes that expand to 9**9 strings.
BOMB = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{c}: &{c} [{','.join(['*' + p] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True)
)


def problems(source: str | bytes, file: str = "wf.yaml") -> list[str]:
    """The problems of a file given as text or bytes; fails if it loads."""
    load = load_bytes if isinstance(source, bytes) else load_text
    with pytest.raises(DefinitionError) as info:
        load(source, file)  # type: ignore[operator]
    return [str(p) for p in info.value.problems]


def timed_problems(source: str | bytes) -> tuple[list[str], float]:
    started = time.perf_counter()
    found = problems(source)
    return found, time.perf_counter() - started


class TestBounds:
    def test_alias_bomb_stops_at_the_alias_quickly(self):
        """A billion laughs is refused at the alias that expands past 100,000 values, fast."""
        found, seconds = timed_problems(BOMB)
        assert [
            "wf.yaml:6:8: alias *e expands the document past 100,000 values "
            "(aliases repeated inside aliases?)"
        ] == found
        assert seconds < 1

    def test_recursive_alias(self):
        """An alias inside the node it names is refused where it is written."""
        assert [
            "wf.yaml:18:16: alias *c refers to a node that contains it (a recursive alias)"
        ] == problems(SMALL + "clocks: &c {x: *c}\n")

    def test_aliases_within_bounds_still_work(self):
        """Anchors, aliases and merge keys are YAML admins may use: they still load."""
        text = SMALL.replace("roles: [clerk, head]", "roles: &r [clerk, head]").replace(
            "    roles: [clerk]", "    roles: *r"
        )
        assert ("clerk", "head") == load_text(text).events["finish"].roles

    def test_flow_nesting_500_deep(self):
        """500 nested brackets: one problem at the 65th, in well under a second."""
        text = SMALL.replace("roles: [clerk, head]", "roles: " + "[" * 500 + "]" * 500)
        found, seconds = timed_problems(text)
        assert ["wf.yaml:3:72: nested deeper than 64 levels: flatten the structure"] == found
        assert seconds < 1

    def test_block_nesting_500_deep(self):
        """500 indented levels: one problem at the 65th level."""
        text = SMALL + "".join("  " * i + f"k{i}:\n" for i in range(500))
        found, seconds = timed_problems(text)
        assert ["wf.yaml:81:127: nested deeper than 64 levels: flatten the structure"] == found
        assert seconds < 1

    def test_a_31_mb_file_is_refused_unread(self, tmp_path):
        """A file past 256 KiB is refused at once, from a file or as text."""
        path = tmp_path / "big.yaml"
        path.write_bytes(SMALL.encode() + b"#" * (31 * 1024 * 1024))
        started = time.perf_counter()
        with pytest.raises(DefinitionError) as info:
            load_file(path)
        assert time.perf_counter() - started < 1
        assert [f"{path}:1:1: file too large (31,744 KiB): a file may be at most 256 KiB"] == [
            str(p) for p in info.value.problems
        ]
        assert ["wf.yaml:1:1: file too large (300 KiB): a file may be at most 256 KiB"] == (
            problems("#" * 300 * 1024)
        )

    def test_guard_nested_1000_deep(self):
        """Deeply nested guards are problems, not RecursionError or MemoryError."""
        deep = SMALL.replace('"data.area_sqm <= 150"', '"' + "not " * 900 + 'data.area_sqm"')
        assert [
            "wf.yaml:16:26: event 'finish': guard is nested more than 32 levels deep "
            "(at column 129 of the guard)"
        ] == problems(deep)
        longer = SMALL.replace('"data.area_sqm <= 150"', '"' + "not " * 1000 + 'data.area_sqm"')
        assert [
            "wf.yaml:16:26: event 'finish': guard is 4,013 characters long: at most 4,000 "
            "(at column 1 of the guard)"
        ] == problems(longer)


class TestValues:
    @pytest.mark.parametrize(
        ("value", "column", "tag"),
        [
            ("!!python/object/apply:os.system ['id']", 8, "!!python/object/apply:os.system"),
            ("[clerk, !!python/name:os.system x]", 16, "!!python/name:os.system"),
            ("!!binary aGVsbG8=", 8, "!!binary"),
            ("!local x", 8, "!local"),
            ("!!float abc", 8, "!!float"),
        ],
    )
    def test_tags_are_refused(self, value: str, column: int, tag: str):
        """Only plain values are built: any tag but !!str/!!seq/!!map is a problem."""
        text = SMALL.replace("version: 1\n", f"version: 1\ntitle: {value}\n")
        assert [
            f"wf.yaml:3:{column}: the YAML tag {tag} is not allowed: write a plain value "
            "(quote it to make it a string)"
        ] == problems(text)

    def test_explicit_string_tag(self):
        """`!!str 2026` is the text '2026'."""
        text = SMALL.replace("version: 1\n", "version: 1\ntitle: !!str 2026\n")
        assert "2026" == load_text(text).title

    @pytest.mark.parametrize("date", ["2026-01-01", "2026-13-45", "2026-01-01 10:00:00"])
    def test_dates_are_the_text_written(self, date: str):
        """A YAML date (even an impossible one) where a string goes is that string."""
        text = SMALL.replace("version: 1\n", f"version: 1\ntitle: {date}\n")
        assert date == load_text(text).title

    def test_not_a_number_and_huge_numbers(self):
        """`.nan`, `.inf` and 5,000-digit numbers are positioned problems."""
        assert ["wf.yaml:2:10: .nan is not a number JSON allows: write a number"] == problems(
            SMALL.replace("version: 1", "version: .nan")
        )
        assert ["wf.yaml:2:10: -.inf is not a number JSON allows: write a number"] == problems(
            SMALL.replace("version: 1", "version: -.inf")
        )
        assert ["wf.yaml:2:10: YAML error: a number of 5,000 digits is too large"] == problems(
            SMALL.replace("version: 1", "version: " + "9" * 5000)
        )

    def test_only_yaml_1_2(self):
        """A %YAML 1.1 directive (other booleans, octal numbers) is refused at the directive."""
        assert ["wf.yaml:1:1: only YAML 1.2 is read: remove the %YAML directive"] == problems(
            "%YAML 1.1\n---\n" + SMALL
        )
        assert "small" == load_text("%YAML 1.2\n---\n" + SMALL).name

    def test_keys_are_names(self):
        """A list or mapping as a key is refused where it starts."""
        text = SMALL.replace("  done: {final: true}", "  ? [a, b]\n  : {final: true}")
        assert ["wf.yaml:10:5: a mapping key must be a name, not a list or mapping"] == problems(
            text
        )

    def test_empty_element(self):
        """`go:` with nothing after it: its missing fields, at the element."""
        assert [
            "wf.yaml:13:3: event 'go': missing required field 'from'",
            "wf.yaml:13:3: event 'go': missing required field 'to'",
        ] == problems(SMALL.replace("events:\n", "events:\n  go: \n"))

    def test_truncated_file(self):
        """A file cut in the middle of a flow mapping: a YAML error at the end."""
        cut = SMALL[: SMALL.index("      - {to: done}") + 9]
        assert [
            "wf.yaml:17:10: YAML error: while parsing a flow node expected the node content, "
            "but found '<stream end>'"
        ] == problems(cut)


class TestEncoding:
    def test_byte_order_mark_is_accepted(self):
        """A UTF-8 BOM (Notepad adds one) does not break loading, as bytes or text."""
        assert "small" == load_bytes(b"\xef\xbb\xbf" + SMALL.encode()).name
        assert "small" == load_text("\ufeff" + SMALL).name

    def test_gbk_file_gets_a_hint_at_the_first_bad_byte(self):
        """A GBK file: where the first non-UTF-8 byte is, and to save it as UTF-8."""
        text = SMALL.replace("version: 1\n", "version: 1\ntitle: 政务服务\n")
        assert [
            "wf.yaml:3:8: not UTF-8 (byte 0xd5): it looks GBK/GB18030-encoded (the default "
            "of Chinese Windows editors): save it as UTF-8 (记事本: 另存为, 编码 UTF-8)"
        ] == problems(text.encode("gbk"))

    def test_other_encodings(self):
        """UTF-16, stray bytes and NUL bytes are positioned problems."""
        assert ["wf.yaml:1:1: the file is UTF-16: save it as UTF-8"] == problems(
            SMALL.encode("utf-16")
        )
        assert ["wf.yaml:2:10: not UTF-8 (byte 0xff): save it as UTF-8"] == problems(
            SMALL.encode().replace(b"version: 1", b"version: \xff1")
        )
        assert [
            "wf.yaml:2:11: YAML error: unacceptable character #x0000: special characters are "
            "not allowed (a NUL byte: is the file UTF-16? save it as UTF-8)"
        ] == problems(SMALL.encode().replace(b"version: 1", b"version: 1\x00"))


class TestChineseKeyboard:
    def test_full_width_colon_is_pointed_at(self):
        """`version： 1`: the problem is at the full-width colon, with the fix."""
        assert [
            "wf.yaml:2:8: YAML error: while scanning a simple key could not find expected ':' "
            "(at line 3, column 1); a full-width colon '：' (Chinese keyboard) is not YAML "
            "syntax: write ':' and a space"
        ] == problems(SMALL.replace("version: 1", "version： 1"))

    def test_full_width_colon_in_a_key_that_parses(self):
        """`{initial：true}` is one odd key: unknown field, with the hint."""
        text = SMALL.replace("{initial: true}", "{initial：true}")
        assert (
            "wf.yaml:9:15: state 'submitted': unknown field 'initial：true' (did you mean "
            "'initial'?) (full-width '：' for ':': the Chinese keyboard typed it; use the "
            "ASCII character)"
        ) in problems(text)

    def test_full_width_comma(self):
        """A full-width comma in a flow mapping or in a list of names."""
        assert [
            "wf.yaml:7:28: YAML error: while parsing a flow mapping expected ',' or '}', but "
            "got ':' (at line 7, column 36); a full-width comma '，' (Chinese keyboard) is not "
            "YAML syntax: write ','"
        ] == problems(SMALL.replace("{type: number}", "{type: number，minimum: 0}"))
        found = problems(SMALL.replace("roles: [clerk, head]", "roles: [clerk，head]"))
        assert (
            "wf.yaml:3:9: roles: the name 'clerk，head' holds a full-width '，' (Chinese "
            "keyboard): YAML needs ',' there"
        ) == found[0]

    def test_tab_indentation(self):
        """A tab in the indentation: at the tab, saying YAML indents with spaces."""
        assert [
            "wf.yaml:9:1: YAML error: while scanning for the next token found character '\\t' "
            "that cannot start any token (at line 9, column 1); a tab is used for indentation: "
            "YAML indents with spaces"
        ] == problems(SMALL.replace("  submitted:", "\tsubmitted:"))

    def test_full_width_digit_and_quotes(self):
        """A full-width digit in a duration and curly quotes in a guard are named."""
        clock = SMALL + "clocks:\n  c: {limit: \uff15 days, runs_in: [submitted]}\n"
        assert [
            "wf.yaml:19:14: clock 'c': invalid duration '\uff15 days': write a whole number and a "
            "unit, e.g. '5 workdays', '30 days', '1 month', '8 hours' (full-width '\uff15' for "
            "'5': the Chinese keyboard typed it; use the ASCII character)"
        ] == problems(clock)
        quotes = SMALL.replace("<= 150", "== “150”")
        assert problems(quotes)[0].endswith(
            "(full-width '“' for '\"', '”' for '\"': the Chinese keyboard typed it; use the "
            "ASCII character)"
        )

"""Pure clock arithmetic: durations, working-day calendars and legal period rules."""

from __future__ import annotations

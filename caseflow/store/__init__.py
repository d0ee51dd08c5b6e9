"""Storage: SQLAlchemy Core tables, connection setup, row <-> domain mapping."""

from __future__ import annotations

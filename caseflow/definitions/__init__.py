"""Workflow definitions: frozen models, the YAML loader with positions, graph checks."""

from __future__ import annotations

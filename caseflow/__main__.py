"""``python -m caseflow`` runs the CLI."""

from __future__ import annotations

from caseflow.cli import main

main()

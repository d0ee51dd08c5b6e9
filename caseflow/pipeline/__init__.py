"""
The one pipeline every command takes: snapshot, pure planner, one writer, after-commit.

See :mod:`caseflow.pipeline.runner` for the path and ``docs/architecture.md`` (README,
"Architecture") for the layers.
"""

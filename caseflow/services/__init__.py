"""The engine's services over its context: queries, the sweep, dispatch, admin, migrations."""

"""
Databases as the migration files built them when they shipped, before they were rewritten.

Four landed revisions were edited in place (see ``migrations/versions/*_0006_*``): one
module per revision keeps the DDL of each copy that shipped, written with the same
Alembic operations the original files used, and :mod:`.history` rebuilds the database of
every commit that changed ``migrations/versions``.
"""

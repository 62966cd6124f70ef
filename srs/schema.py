"""The schema revision this code expects, known without loading SQLAlchemy or Alembic.

A test keeps SCHEMA_HEAD equal to the head of alembic/versions.
"""

SCHEMA_HEAD = "0007"
KNOWN_REVISIONS = ("0001", "0002", "0003", "0004", "0005", "0006", "0007")

"""Alembic environment: runs on a connection handed in by srs.db (JupyterHub's pattern)."""

from alembic import context

from srs.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("srs migrations run through srs.db.Database.upgrade(), not the alembic CLI")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()

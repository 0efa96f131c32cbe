"""Safe text on GitHub and staff names in public (issue 12, items 6 and 8).

- ``products.issue_text``: how much submitter text the product's GitHub issues carry
  (``full``, ``scrubbed``, ``subject-only``; NULL: by the repository's visibility).
- ``api_keys.public_name``: the name submitters see on the key's public comments.
- ``comments.public_author``: that name, fixed when the comment is written; NULL on the rows
  written before, which the public views show as "Support team".

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

COLUMNS = (
    ("products", "issue_text", 16),
    ("api_keys", "public_name", 100),
    ("comments", "public_author", 100),
)


def upgrade() -> None:
    # Plain ADD COLUMN on both dialects (nullable, no default: no table is rewritten).
    for table, name, length in COLUMNS:
        op.add_column(table, sa.Column(name, sa.String(length=length), nullable=True))


def downgrade() -> None:
    for table, name, _ in reversed(COLUMNS):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column(name)

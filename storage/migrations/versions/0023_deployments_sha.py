"""An index on a production deployment's sha, so that ``DeploymentRepo.record`` knows a
retried deployment without reading every deployment of the product.

Revision ID: 0023
Revises: 0022
"""

from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_production_deployments_sha", "production_deployments", ["product_id", "sha"]
    )


def downgrade() -> None:
    op.drop_index("ix_production_deployments_sha", table_name="production_deployments")

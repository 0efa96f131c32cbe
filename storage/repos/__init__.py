"""Repositories: thin classes over an AsyncSession, one per aggregate; they never commit."""

"""ProductRepo: products and the GitHub repository each one is tied to."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Product
from storage.types import rows_affected

# Slugs come from URLs (``%00``) unvalidated: every other path parameter is parsed first.
_NUL = "\x00"


class ProductRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_slug(self, slug: str) -> Product | None:
        if _NUL in slug:
            return None  # no slug holds one, and PostgreSQL refuses to compare with it
        return await self.session.scalar(select(Product).where(Product.slug == slug))

    async def by_id(self, product_id: int) -> Product | None:
        return await self.session.get(Product, product_id)

    async def all(self) -> Sequence[Product]:
        return (await self.session.scalars(select(Product).order_by(Product.slug))).all()

    async def for_repo(self, owner: str, name: str) -> Sequence[Product]:
        """Products of one repository; GitHub logins and repo names are case-insensitive."""
        params = {"owner": owner.lower(), "name": name.lower()}
        return (await self.session.scalars(_FOR_REPO, params)).all()

    async def add(self, product: Product) -> Product:
        self.session.add(product)
        await self.session.flush()
        return product

    async def remove(self, slug: str) -> bool:
        if _NUL in slug:
            return False
        result = await self.session.execute(delete(Product).where(Product.slug == slug))
        return rows_affected(result) > 0

    async def set_installation(self, owner: str, name: str, installation_id: int | None) -> int:
        result = await self.session.execute(
            update(Product)
            .where(
                func.lower(Product.repo_owner) == owner.lower(),
                func.lower(Product.repo_name) == name.lower(),
            )
            .values(installation_id=installation_id)
        )
        return rows_affected(result)

    async def forget_installation(self, installation_id: int) -> int:
        result = await self.session.execute(
            update(Product)
            .where(Product.installation_id == installation_id)
            .values(installation_id=None)
        )
        return rows_affected(result)


# Built once: the inbox asks for nearly every batch.
_FOR_REPO = select(Product).where(
    func.lower(Product.repo_owner) == bindparam("owner"),
    func.lower(Product.repo_name) == bindparam("name"),
)

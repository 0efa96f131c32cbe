"""Who may use billing: any desk key logs time on the tickets it sees; clients, contracts,
rates and invoices span every product, so they want a key scoped to none."""

from __future__ import annotations

from bot.errors import ApiError
from bot.tickets.apikeys import KeyScope


def require_billing(scope: KeyScope) -> None:
    if scope.product_ids is not None:
        raise ApiError(
            403,
            "Billing needs an unscoped desk key",
            "Clients, contracts, rates and invoices cover every product; use a key made "
            "without --product (`tinydesk keys create --name NAME`).",
        )


def not_found(what: str, hint: str) -> ApiError:
    return ApiError(404, f"{what} not found", hint)

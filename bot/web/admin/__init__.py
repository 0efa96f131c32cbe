"""The admin pages under ``/admin``: products, SLA policies and breaches, tickets (with their
time), ticket templates, clients, contracts and invoices, failed webhook deliveries, ticket
callbacks, failed GitHub jobs, API keys.

Every page needs a signed-in admin session and every POST form that session's CSRF token
(``admin_only`` in ``bot.web.admin_auth``). Admins see what the public never does: emails,
bodies, internal notes. One module per page; this is their route list.
"""

from __future__ import annotations

from aiohttp import web

from bot.web.admin import (
    breaches,
    callbacks,
    clients,
    contracts,
    deliveries,
    invoices,
    jobs,
    keys,
    overview,
    products,
    setup,
    sla,
    templates,
    tickets,
)

routes = [
    web.get("/admin", overview.overview),
    web.get("/admin/products", products.list_products),
    web.post("/admin/products", products.add_product),
    web.post("/admin/products/{slug}/issue-text", products.set_issue_text),
    web.get("/admin/products/{slug}/remove", products.confirm_remove_product),
    web.post("/admin/products/{slug}/remove", products.remove_product),
    web.get("/admin/sla", sla.list_policies),
    web.post("/admin/sla", sla.add_policy),
    web.get("/admin/sla/new", sla.new_policy),
    web.get("/admin/sla/{id}", sla.edit_form),
    web.post("/admin/sla/{id}", sla.save_policy),
    web.post("/admin/sla/{id}/default", sla.make_default),
    web.get("/admin/sla/{id}/remove", sla.confirm_remove),
    web.post("/admin/sla/{id}/remove", sla.remove_policy),
    web.get("/admin/tickets", tickets.list_tickets),
    web.get("/admin/tickets/{public_id}", tickets.show_ticket),
    web.post("/admin/tickets/{public_id}/time", tickets.log_time),
    web.get("/admin/breaches", breaches.list_breaches),
    web.get("/admin/templates", templates.list_templates),
    web.post("/admin/templates", templates.add_template),
    web.get("/admin/templates/{id}/edit", templates.edit_template),
    web.post("/admin/templates/{id}/edit", templates.save_template),
    web.get("/admin/templates/{id}/remove", templates.confirm_remove_template),
    web.post("/admin/templates/{id}/remove", templates.remove_template),
    web.get("/admin/clients", clients.list_clients),
    web.post("/admin/clients", clients.add_client),
    web.get("/admin/clients/{id}", clients.show_client),
    web.post("/admin/clients/{id}", clients.save_client),
    web.get("/admin/contracts", contracts.list_contracts),
    web.post("/admin/contracts", contracts.add_contract),
    web.get("/admin/contracts/{id}", contracts.show_contract),
    web.get("/admin/invoices", invoices.list_invoices),
    web.post("/admin/invoices", invoices.make_draft),
    web.get("/admin/invoices/{ref}", invoices.show_invoice),
    web.get("/admin/invoices/{ref}/pdf", invoices.download_pdf),
    web.get("/admin/invoices/{ref}/csv", invoices.download_csv),
    web.post("/admin/invoices/{ref}/issue", invoices.issue_invoice),
    web.post("/admin/invoices/{ref}/delete", invoices.delete_draft),
    web.post("/admin/invoices/{ref}/pay", invoices.pay_invoice),
    web.post("/admin/invoices/{ref}/void", invoices.void_invoice),
    web.post("/admin/invoices/{ref}/credit", invoices.credit_invoice),
    web.get("/admin/deliveries", deliveries.list_failed_deliveries),
    web.post("/admin/deliveries/{id}/replay", deliveries.replay_delivery),
    web.get("/admin/callbacks", callbacks.list_callbacks),
    web.post("/admin/callbacks/{id}/redeliver", callbacks.redeliver),
    web.get("/admin/jobs", jobs.list_jobs),
    web.get("/admin/jobs/{id}", jobs.show_job),
    web.post("/admin/jobs/{id}/replay", jobs.replay_job),
    web.get("/admin/api-keys", keys.list_api_keys),
    web.post("/admin/api-keys", keys.add_api_key),
    web.post("/admin/api-keys/{id}/revoke", keys.revoke_api_key),
    web.post("/admin/api-keys/{id}/public-name", keys.set_public_name),
    web.get(setup.SETUP_PATH, setup.show_setup),
    web.post(setup.SETUP_PATH, setup.start_setup),
    web.get(setup.CALLBACK_PATH, setup.setup_callback),
]

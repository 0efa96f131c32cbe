"""TinyDesk as an MCP server (issue 18): tools and a resource that are thin adapters over
TinyDesk's own HTTP API, served on stdio (``tinydesk mcp``) or at ``/mcp`` by ``tinydesk
serve`` (``TINYDESK_MCP=true``)."""

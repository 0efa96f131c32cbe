"""Time, contracts and invoices (seed 003)."""

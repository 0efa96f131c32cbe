"""HTTP APIs, one module per audience: public (submitters), desk (staff), admin."""

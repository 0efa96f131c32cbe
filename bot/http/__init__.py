"""HTTP plumbing shared by the APIs and pages: middleware, bodies, auth, rate limits, cursors."""

"""GitHub webhooks: the receiver, the inbox worker, and one router module per event family.

``router`` below is the only place where the families are composed.
"""

from gidgethub import routing

from webhooks import deployments, installations, issues, pull_requests, reviews

router = routing.Router(
    installations.router,
    issues.router,
    pull_requests.router,
    reviews.router,
    deployments.router,
)

# The events the App subscribes to in app.yml; a test keeps the two in step.
SUBSCRIBED_EVENTS = ("issues", "pull_request", "pull_request_review", "deployment_status")
# Always delivered to a GitHub App, never listed in a manifest.
IMPLICIT_EVENTS = ("installation", "installation_repositories", "ping")

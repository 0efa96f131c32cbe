"""GitHub webhooks: the receiver, the inbox worker, and one router module per event family."""

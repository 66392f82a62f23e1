"""The mail outbox: messages written in the action's transaction, delivered by a worker."""

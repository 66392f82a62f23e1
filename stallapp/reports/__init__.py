"""Close-out of events and the reports built from the ledger."""

"""The literature catalogue, the stores and the append-only stock ledger."""

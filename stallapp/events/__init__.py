"""Events: stalls, meetings and interventions, series that generate them, and registrations."""

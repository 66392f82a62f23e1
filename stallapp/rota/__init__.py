"""The volunteer rota: shifts at events, who is on them, cover, reminders and calendar feeds."""

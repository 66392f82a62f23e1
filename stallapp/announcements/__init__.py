"""Announcements: an organiser writes to the group's mailing list."""

"""Contacts: members of the public who signed up, registered or wrote, and their consent."""

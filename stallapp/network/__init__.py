"""The network's shared public pages and each group's presence on other websites."""

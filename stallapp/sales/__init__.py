"""The stall sale screen: sales, donations, subscriptions, undo, and the offline sync API."""

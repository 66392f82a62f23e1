"""Accounts: users, groups, memberships and roles, invitations, logins and password resets."""

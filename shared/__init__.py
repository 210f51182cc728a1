"""Outreach's shared package: configuration, data access and the domain logic of every function."""

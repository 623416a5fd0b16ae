"""Networking events (联谊活动): business profiles, supply-demand matches, events."""

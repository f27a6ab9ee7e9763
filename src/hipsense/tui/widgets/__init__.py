"""Widgets of the live app."""

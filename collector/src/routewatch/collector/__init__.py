"""The routewatch collector."""

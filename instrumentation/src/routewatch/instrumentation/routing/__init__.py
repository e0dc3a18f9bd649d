"""Routing layer: route spans around declared routers, attempts, fallbacks, cache lookups."""

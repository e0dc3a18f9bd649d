"""routewatch exporters: cores shared by in-process SDK exporters and collector components."""

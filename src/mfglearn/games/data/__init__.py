"""Package data: road networks and demands (JSON, the format of mfglearn.games.routing.Network)."""

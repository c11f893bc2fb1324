"""Local stand-ins for third-party web sites the pipelines scrape (the real ones are not reachable here)."""

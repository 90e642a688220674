"""Ways in over HTTP: the JSON API (and, later, the HTML pages)."""

"""Server-rendered pages (Jinja2 + HTMX): overview, explorer, customers, import, login."""

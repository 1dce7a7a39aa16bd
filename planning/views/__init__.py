"""Planning's pages (HTMX), one module per page, mounted under /planning/ by planning/urls.py."""

"""Quality's reads for pages, API and reports."""

"""Order board pages (HTMX)."""

urlpatterns: list = []

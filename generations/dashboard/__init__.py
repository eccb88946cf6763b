"""The merchant pages of the dashboard that need generations: the gallery, the overview, customers and their
erasure, the try-on playground and the product statistics panel. Django admin stays the frame (views are
wrapped by ``admin_site.admin_view`` and scoped like every model page); writes go through the API's services."""

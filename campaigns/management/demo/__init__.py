"""Demo data for `manage.py seed_demo`: generated people, and the catalog of
segments and campaigns built on them."""

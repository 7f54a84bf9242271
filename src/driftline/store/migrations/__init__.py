"""Alembic migrations of the metadata DB, applied by :class:`driftline.store.MetadataStore`."""

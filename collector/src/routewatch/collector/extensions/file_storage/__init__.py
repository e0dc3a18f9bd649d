"""The `file_storage` extension."""

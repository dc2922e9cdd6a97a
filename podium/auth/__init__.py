"""Authentication and roles: API keys (hashed in the store), tokens, and who may call what."""

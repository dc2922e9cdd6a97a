"""Storage: one protocol (``base.Store``), and its backends."""

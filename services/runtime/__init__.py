"""The shared kit every Chirp service is built from, one module per concern."""

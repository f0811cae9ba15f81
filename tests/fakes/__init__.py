"""Small fakes of vendors' public APIs, written from their documentation (not from the sandbox)."""

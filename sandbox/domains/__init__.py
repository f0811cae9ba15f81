"""One module per subsystem; each turns the college into that vendor's records."""

"""One module per vendor convention; ``server.API_CLASSES`` maps each subsystem to one."""

"""Data tables generated from the sources by the scripts in tools/ (each row cites where it came from)."""

"""Rules of the mpi area: one rule a file, helpers in common.py."""

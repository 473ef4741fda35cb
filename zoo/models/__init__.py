"""The zoo's model families."""

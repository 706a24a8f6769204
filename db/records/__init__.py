"""Court records store: import, case-number normalisation, verified lookup, search, demo data."""

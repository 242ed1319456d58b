"""End-to-end: spfkit policyd behind a real Postfix, resolving through a real BIND."""

"""The MES half: released work, shop-floor tasks, production events (built in later issues)."""

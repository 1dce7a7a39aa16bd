"""Device adapters, telemetry, equipment states and OEE (built in later issues)."""

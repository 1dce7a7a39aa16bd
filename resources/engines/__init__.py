"""Pure algorithms of resources: plain data in, plain data out, no Django import."""

"""Pure algorithms of costing: plain data in, plain data out, no Django import."""

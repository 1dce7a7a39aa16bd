"""Pure algorithms of the shop floor: plain data in, plain data out, no Django import."""

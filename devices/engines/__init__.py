"""Pure algorithms of devices: plain data in, plain data out, no Django import."""

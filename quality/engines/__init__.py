"""Quality's pure algorithms: plain data in, plain data out, no Django import."""

"""Pure algorithms of planning: plain data in, plain data out, no Django import.

`mrp` (material requirements), `scheduling` (the finite-capacity scheduler), `bomgraph`
(BOM cycles and low-level codes) and `capacity_arithmetic` (daily rate caps, load per
day). The services and selectors load the data, call them and save or show the result.
"""

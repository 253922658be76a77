"""The model: random draws, the behaviour rules (the only rule code), customers, decisions and the policy's tables.

Both engines run these functions: the SimPy engine as plain Python, the compiled engine compiled with numba.
"""

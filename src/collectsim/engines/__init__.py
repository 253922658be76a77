"""The engines that run the model (SimPy, the reference; compiled, with numba) behind one contract (:mod:`.base`),
and :func:`~collectsim.engines.simulate.simulate`, one run of a scenario under a policy."""

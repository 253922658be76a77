"""Many runs: replications, worker processes, comparisons of policies with paired intervals, sweeps, verdicts."""

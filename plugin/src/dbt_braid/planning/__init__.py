"""Planning: pure functions from the graph and a selection (and, where there is some,
history's durations) to the batches and Python steps a run executes."""

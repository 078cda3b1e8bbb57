"""IO managers: where a Python asset's inputs come from and where its result goes."""

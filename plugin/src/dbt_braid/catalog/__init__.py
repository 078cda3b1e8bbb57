"""The asset catalog: one offline page of every node, its history, its runs (braid catalog)."""

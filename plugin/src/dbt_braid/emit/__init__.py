"""Record and emit: what a run leaves behind for others (lineage payloads, OpenLineage
events, the progress file), shared by the built-in plugins and the views."""

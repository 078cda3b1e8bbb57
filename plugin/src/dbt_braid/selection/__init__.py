"""dbt's selection syntax over the unified graph (:mod:`.select`)."""

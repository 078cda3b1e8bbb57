"""What braid prints about a project without running it: ``braid ls`` (:mod:`.listing`) and
``braid lineage`` as text (:mod:`.lineage`). The catalog page is :mod:`dbt_braid.catalog`."""

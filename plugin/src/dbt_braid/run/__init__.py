"""One braid command that runs nodes, in phases: the request (:mod:`.request`), the
session before anything runs (:mod:`.session`: parse, resolve, select, plan, check), the
run's preparation (:mod:`.prepare`: refs, IO, executor, the final plan), the engine
(:mod:`dbt_braid.execution`) and the finish (:mod:`.finish`: dbt's artifacts, hooks);
:mod:`.execute` drives them under the run lock. ``braid retry`` (:mod:`.retry`) plans here
too."""

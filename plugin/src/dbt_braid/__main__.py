from dbt_braid.cli import main

raise SystemExit(main())

{#-
  Run history, kept in the warehouse: one row per run (braid_runs) and one per node
  materialization, dbt nodes and Python assets alike (braid_node_runs); a Python asset's
  retried attempts have a row each. braid writes them as the run goes, through its own
  connection (the plugin's history/journal.py), after ensure_history made the tables; a
  plain `dbt run` can write its dbt nodes through the on-run-end macro record_dbt_results. Tables live in var('braid_history_schema'),
  by default the target schema.
-#}

{% macro history_relation(name) %}
  {{ return(api.Relation.create(
      database=target.database,
      schema=var('braid_history_schema', target.schema),
      identifier=name)) }}
{% endmacro %}


{#- Create the history tables when they are missing. Idempotent. -#}
{% macro ensure_history() %}
  {{ return(adapter.dispatch('ensure_history', 'braid')()) }}
{% endmacro %}

{% macro default__ensure_history() %}
  {%- set runs = braid.history_relation('braid_runs') -%}
  {%- set nodes = braid.history_relation('braid_node_runs') -%}
  {% do adapter.create_schema(runs.without_identifier()) %}
  {% call statement('braid_create_runs') -%}
    create table if not exists {{ runs }} (
      run_id {{ dbt.type_string() }},
      command {{ dbt.type_string() }},
      selection {{ dbt.type_string() }},
      target_name {{ dbt.type_string() }},
      started_at {{ dbt.type_timestamp() }},
      completed_at {{ dbt.type_timestamp() }},
      status {{ dbt.type_string() }},
      braid_version {{ dbt.type_string() }},
      dbt_version {{ dbt.type_string() }},
      retry_of {{ dbt.type_string() }},
      schedule {{ dbt.type_string() }}
    )
  {%- endcall %}
  {% call statement('braid_create_node_runs') -%}
    create table if not exists {{ nodes }} (
      run_id {{ dbt.type_string() }},
      unique_id {{ dbt.type_string() }},
      name {{ dbt.type_string() }},
      kind {{ dbt.type_string() }},
      status {{ dbt.type_string() }},
      started_at {{ dbt.type_timestamp() }},
      completed_at {{ dbt.type_timestamp() }},
      rows_written {{ dbt.type_bigint() }},
      message {{ dbt.type_string() }},
      code_version {{ dbt.type_string() }},
      input_versions {{ dbt.type_string() }},
      attempt {{ dbt.type_bigint() }},
      invocation {{ dbt.type_bigint() }},
      metadata {{ dbt.type_string() }},
      partition_key {{ dbt.type_string() }}
    )
  {%- endcall %}
  {#- tables made by an older braid get the columns added since -#}
  {% for relation, added in [
      (runs, [('retry_of', dbt.type_string()), ('schedule', dbt.type_string())]),
      (nodes, [('attempt', dbt.type_bigint()), ('invocation', dbt.type_bigint()),
               ('metadata', dbt.type_string()), ('partition_key', dbt.type_string())])] %}
    {%- set have = adapter.get_columns_in_relation(relation) | map(attribute='name')
        | map('lower') | list -%}
    {% for name, kind in added if name not in have %}
      {% call statement('braid_add_' ~ name) -%}
        alter table {{ relation }} add column {{ name }} {{ kind }}
      {%- endcall %}
    {% endfor %}
  {% endfor %}
  {% do adapter.commit() %}
{% endmacro %}


{#- A SQL literal for a value from run-operation args or from dbt's results. -#}
{% macro _history_literal(value, kind='string') %}
  {%- if value is none -%}
    null
  {%- elif kind == 'timestamp' -%}
    cast('{{ value }}' as {{ dbt.type_timestamp() }})
  {%- elif kind == 'number' -%}
    {{ value }}
  {%- else -%}
    '{{ value | string | replace("'", "''") }}'
  {%- endif -%}
{% endmacro %}


{#-
  Insert run rows and node rows (lists of mappings with the tables' columns), in chunks
  of `chunk` rows per statement: one round trip per chunk, not per row.
-#}
{% macro insert_history(runs, nodes, chunk=500, nodes_file=none) %}
  {% if nodes_file is none %}
    {{ return(adapter.dispatch('insert_history', 'braid')(runs, nodes, chunk)) }}
  {% endif %}
  {{ return(adapter.dispatch('insert_history', 'braid')(runs, nodes, chunk, nodes_file)) }}
{% endmacro %}

{% macro default__insert_history(runs, nodes, chunk=500, nodes_file=none) %}
  {% do braid.ensure_history() %}
  {%- set run_columns = [('run_id', 'string'), ('command', 'string'), ('selection', 'string'),
      ('target_name', 'string'), ('started_at', 'timestamp'), ('completed_at', 'timestamp'),
      ('status', 'string'), ('braid_version', 'string'), ('dbt_version', 'string'),
      ('retry_of', 'string'), ('schedule', 'string')] -%}
  {%- set node_columns = [('run_id', 'string'), ('unique_id', 'string'), ('name', 'string'),
      ('kind', 'string'), ('status', 'string'), ('started_at', 'timestamp'),
      ('completed_at', 'timestamp'), ('rows_written', 'number'), ('message', 'string'),
      ('code_version', 'string'), ('input_versions', 'string'), ('attempt', 'number'),
      ('invocation', 'number'), ('metadata', 'string'), ('partition_key', 'string')] -%}
  {% for table, rows, columns in [('braid_runs', runs, run_columns),
                                  ('braid_node_runs', nodes, node_columns)] %}
    {% for part in rows | batch(chunk) %}
      {% call statement('braid_insert_' ~ table ~ '_' ~ loop.index) -%}
        insert into {{ braid.history_relation(table) }}
          ({% for name, kind in columns %}{{ name }}{{ ", " if not loop.last }}{% endfor %})
        values
        {% for row in part -%}
          ({% for name, kind in columns %}{{ braid._history_literal(row.get(name), kind) }}{{ ", " if not loop.last }}{% endfor %}){{ "," if not loop.last }}
        {% endfor %}
      {%- endcall %}
    {% endfor %}
  {% endfor %}
  {% do adapter.commit() %}
{% endmacro %}


{#-
  DuckDB reads the node rows from a newline-delimited JSON file braid wrote
  (nodes_file): one INSERT ... SELECT, however many nodes ran, instead of rendering every
  row as SQL text. DuckDB's read_json:
  https://duckdb.org/docs/data/json/loading_json
-#}
{% macro duckdb__insert_history(runs, nodes, chunk=500, nodes_file=none) %}
  {% if nodes_file is none %}
    {% do braid.default__insert_history(runs, nodes, chunk) %}
    {{ return('') }}
  {% endif %}
  {% do braid.default__insert_history(runs, [], chunk) %}
  {% call statement('braid_insert_node_runs_file') -%}
    insert into {{ braid.history_relation('braid_node_runs') }}
      (run_id, unique_id, name, kind, status, started_at, completed_at, rows_written,
       message, code_version, input_versions, attempt, invocation, metadata, partition_key)
    select run_id, unique_id, name, kind, status, started_at, completed_at, rows_written,
           message, code_version, input_versions, attempt, invocation, metadata, partition_key
    from read_json('{{ nodes_file | replace("'", "''") }}', format = 'newline_delimited',
      columns = {run_id: 'VARCHAR', unique_id: 'VARCHAR', name: 'VARCHAR', kind: 'VARCHAR',
                 status: 'VARCHAR', started_at: 'TIMESTAMP', completed_at: 'TIMESTAMP',
                 rows_written: 'BIGINT', message: 'VARCHAR', code_version: 'VARCHAR',
                 input_versions: 'VARCHAR', attempt: 'BIGINT', invocation: 'BIGINT',
                 metadata: 'VARCHAR', partition_key: 'VARCHAR'})
  {%- endcall %}
  {% do adapter.commit() %}
{% endmacro %}


{#-
  For a project's on-run-end, so that a plain `dbt run`/`dbt build` records its nodes too:
    on-run-end: ["{{ braid.record_dbt_results(results) }}"]
  braid's own invocations set var braid_run_id and are recorded by braid instead.
-#}
{% macro record_dbt_results(results) %}
  {% if not execute or var('braid_run_id', none) is not none or results | length == 0 %}
    {{ return('') }}
  {% endif %}
  {%- set nodes = [] -%}
  {%- set ns = namespace(started=none, completed=none, failed=false) -%}
  {% for result in results %}
    {%- set t = namespace(started=none, completed=none) -%}
    {% for timing in result.timing %}
      {% if timing.started_at and (t.started is none or timing.started_at < t.started) %}{% set t.started = timing.started_at %}{% endif %}
      {% if timing.completed_at and (t.completed is none or timing.completed_at > t.completed) %}{% set t.completed = timing.completed_at %}{% endif %}
    {% endfor %}
    {%- set started = t.started -%}
    {%- set completed = t.completed -%}
    {% if started is not none and (ns.started is none or started < ns.started) %}{% set ns.started = started %}{% endif %}
    {% if completed is not none and (ns.completed is none or completed > ns.completed) %}{% set ns.completed = completed %}{% endif %}
    {% if result.status in ('error', 'fail', 'runtime error') %}{% set ns.failed = true %}{% endif %}
    {%- set rows = (result.adapter_response or {}).get('rows_affected') -%}
    {% do nodes.append({
        'run_id': invocation_id,
        'unique_id': result.node.unique_id,
        'name': result.node.name,
        'kind': result.node.resource_type,
        'status': result.status,
        'started_at': started.strftime('%Y-%m-%d %H:%M:%S.%f') if started else none,
        'completed_at': completed.strftime('%Y-%m-%d %H:%M:%S.%f') if completed else none,
        'rows_written': rows if rows is number and rows >= 0 else none,
        'message': result.message,
        'code_version': result.node.checksum.checksum if result.node.checksum else none,
        'input_versions': none}) %}
  {% endfor %}
  {%- set runs = [{
      'run_id': invocation_id,
      'command': 'dbt ' ~ flags.WHICH,
      'selection': none,
      'target_name': target.name,
      'started_at': ns.started.strftime('%Y-%m-%d %H:%M:%S.%f') if ns.started else none,
      'completed_at': ns.completed.strftime('%Y-%m-%d %H:%M:%S.%f') if ns.completed else none,
      'status': 'error' if ns.failed else 'success',
      'braid_version': none,
      'dbt_version': dbt_version}] -%}
  {% do braid.insert_history(runs, nodes) %}
  {{ return('') }}
{% endmacro %}

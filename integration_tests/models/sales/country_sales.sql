-- dbt-postgres's microbatch merges on a unique_key; dbt-duckdb's deletes each batch's
-- event_time range and refuses one
{{ config(unique_key=(['order_date', 'country'] if target.type == 'postgres' else none)) }}
-- Each batch of this microbatch model reads only its month of the Python asset's table
-- (the source's event_time), as the asset read only its month of fct_orders.
select
    order_date,
    country,
    n_orders,
    revenue,
    share_of_month,
    revenue / nullif(n_orders, 0) as avg_order_value
from {{ source('sales', 'daily_country_sales') }}

-- One row per day: orders placed and the revenue they brought (cancelled and
-- returned orders count as placed but bring no revenue). Amounts are summed
-- across currencies as recorded; the forecast only needs the trend.
select
    order_date,
    count(*) as n_orders,
    sum(case when is_revenue then amount else 0 end) as revenue
from {{ ref('fct_orders') }}
group by order_date

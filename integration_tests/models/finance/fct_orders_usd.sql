-- fct_orders with amounts in USD, using the Python-loaded exchange rates.
with orders as (

    select * from {{ ref('fct_orders') }}

),

rates as (

    select * from {{ source('reference', 'exchange_rates') }}

)

select
    orders.order_id,
    orders.customer_id,
    orders.order_date,
    orders.status,
    orders.is_revenue,
    orders.country,
    orders.currency,
    orders.amount,
    rates.rate_to_usd,
    round(cast(orders.amount * rates.rate_to_usd as {{ dbt.type_numeric() }}), 2) as amount_usd
from orders
left join rates
    on orders.currency = rates.currency

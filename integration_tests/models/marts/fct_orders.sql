-- One row per order, with the customer's country and currency.
with orders as (

    select * from {{ ref('stg_orders') }}

),

customers as (

    select * from {{ ref('stg_customers') }}

)

select
    orders.order_id,
    orders.customer_id,
    orders.order_date,
    orders.status,
    orders.is_revenue,
    orders.amount,
    customers.country,
    customers.currency
from orders
left join customers
    on orders.customer_id = customers.customer_id

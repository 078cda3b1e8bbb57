with source as (

    select * from {{ ref('raw_orders') }}

)

select
    id as order_id,
    customer_id,
    cast(order_date as date) as order_date,
    status,
    status not in ('cancelled', 'returned') as is_revenue,
    amount
from source

-- Weekly totals of the Python-produced daily forecast.
with predictions as (

    select * from {{ source('forecasting', 'predicted_orders') }}

)

select
    cast({{ dbt.date_trunc('week', 'forecast_date') }} as date) as week_start,
    count(*) as forecast_days,
    round(cast(sum(predicted_orders) as {{ dbt.type_numeric() }}), 1) as predicted_orders,
    round(cast(sum(predicted_revenue) as {{ dbt.type_numeric() }}), 2) as predicted_revenue
from predictions
group by 1
order by 1

with source as (

    select * from {{ ref('raw_customers') }}

)

select
    id as customer_id,
    first_name,
    last_name,
    country,
    case country
        when 'US' then 'USD'
        when 'GB' then 'GBP'
        when 'CA' then 'CAD'
        when 'AU' then 'AUD'
        when 'DE' then 'EUR'
        when 'FR' then 'EUR'
        when 'NL' then 'EUR'
    end as currency,
    cast(signup_date as date) as signup_date
from source

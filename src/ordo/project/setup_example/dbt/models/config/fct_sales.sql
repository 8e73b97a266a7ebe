select i.order_id, o.ordered_at, o.customer_id, i.product_id, i.qty, i.revenue
from {{ ref('stg_order_items') }} i
join {{ ref('stg_orders') }} o on o.order_id = i.order_id

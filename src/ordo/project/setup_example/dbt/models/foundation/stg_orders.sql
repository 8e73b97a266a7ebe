select order_id, customer_id, store_id, ordered_at, lower(status) as status
from orders

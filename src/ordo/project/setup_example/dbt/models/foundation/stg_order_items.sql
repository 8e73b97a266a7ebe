select order_id, product_id, qty, price, qty * price as revenue
from order_items

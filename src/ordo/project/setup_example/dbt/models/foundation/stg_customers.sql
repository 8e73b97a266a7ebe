select c.customer_id, c.name, r.name as region
from customers c
join regions r on r.region_id = c.region_id
